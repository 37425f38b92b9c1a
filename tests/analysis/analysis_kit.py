"""Constants and helpers shared by the eval/watch/report tests (imported by name: no conftest)."""

import io

from hackmatrix.cli import build_parser

# 8 games x 16 steps = 128 env steps per update, 3 updates in one chunk: a checkpoint at update 3.
TRAIN = ["env.num_envs=8", "ppo.num_steps=16", "ppo.total_timesteps=384",
         "ppo.num_minibatches=2", "ppo.update_epochs=1", "network.hidden_sizes=[16]",
         "run.updates_per_chunk=3", "run.name=tiny", "sinks=[jsonl,tensorboard]"]
UPDATES, BATCH = 3, 128
EPISODES, SEED, MAX_STEPS = 4, 5, 40


def run_cli(argv, **streams) -> tuple:
    """Run one hackmatrix sub-command in this process; return (exit status, its output)."""
    out = io.StringIO()
    args = build_parser().parse_args(argv)
    name = "stdout" if args.command == "watch" else "out"
    status = args.func(args, **{name: out}, **streams)
    return status, out.getvalue()
