"""`hackmatrix eval CHECKPOINT`: play N episodes with a trained policy and a random baseline."""

import argparse
import json
import sys
from pathlib import Path

from hackmatrix.env.constants import PROGRAM_NAMES, REWARD_KEYS
from hackmatrix.errors import ConfigError

EPILOG = """examples:
  hackmatrix eval runs/ppo-001                      # newest checkpoint, 100 greedy episodes
  hackmatrix eval runs/ppo-001/checkpoints/update_00000096.ckpt --episodes 1000 --seed 7
  hackmatrix eval runs/ppo-001 --policy sample --json eval.json --log-to-sinks
"""


def register(subparsers) -> None:
    """Add the `eval` sub-command to the hackmatrix command line."""
    parser = subparsers.add_parser(
        "eval", help="evaluate a checkpoint against a random baseline",
        description=__doc__ + " Both play the same seeds: episode i starts from the same board "
        "and sees the same env draws at each step number.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a checkpoint file, a run directory (its newest checkpoint), or a "
                             "policy exported by hackmatrix export")
    parser.add_argument("--episodes", type=int, default=100, help="episodes to play (100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the episodes (0)")
    parser.add_argument("--best", action="store_true",
                        help="use the run's best checkpoint (checkpoints/best.ckpt, kept by "
                             "evaluation during training) instead of its newest")
    parser.add_argument("--seed-index", type=int, default=0, metavar="I",
                        help="which seed of a multi-seed run (run.seeds): index I into its seed "
                             "list (0)")
    parser.add_argument("--policy", choices=("greedy", "sample"), default="greedy",
                        help="greedy: the most probable valid action; sample: draw from the "
                             "policy (greedy)")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="steps after which an episode counts as truncated (default: the "
                             "run's env.max_steps_in_episode)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--log-to-sinks", action="store_true",
                        help="log the results as eval/* to the run's sinks (not the console)")
    parser.set_defaults(func=run)


def _pm(mean: float, ci, digits: int) -> str:
    text = f"{mean:.{digits}f}"
    return text + (f" ± {ci:.{digits}f}" if ci is not None else "")


def format_table(result: dict) -> str:
    """Return the eval results as a readable two-column table (agent vs random baseline)."""
    agent, rand = result["agent"], result["random"]
    lines = [
        (f"checkpoint {result['checkpoint']} (update {result['update']}, "
         f"{result['env_steps']} env steps"
         + (f", training seed {result['training_seed']}" if "training_seed" in result else "")
         + ")"),
        (f"{result['episodes']} episodes, seed {result['seed']}, {agent['policy']} policy vs "
         f"random valid actions, at most {result['max_steps']} steps each"),
        "",
        f"{'':28s}{'agent':>20s}{'random':>20s}",
    ]

    def row(label, a, b):
        lines.append(f"{label:28s}{a:>20s}{b:>20s}")

    row("win rate", f"{agent['win_rate']:.3f}", f"{rand['win_rate']:.3f}")
    row("final stage (95% CI)", _pm(agent["final_stage_mean"], agent["final_stage_ci95"], 2),
        _pm(rand["final_stage_mean"], rand["final_stage_ci95"], 2))
    row("return (95% CI)", _pm(agent["return_mean"], agent["return_ci95"], 2),
        _pm(rand["return_mean"], rand["return_ci95"], 2))
    row("length", f"{agent['length_mean']:.1f}", f"{rand['length_mean']:.1f}")
    row("truncated", f"{agent['truncated_rate']:.3f}", f"{rand['truncated_rate']:.3f}")
    lines.append("action shares")
    for key in ("move_frac", "siphon_frac", "program_frac"):
        row(f"  {key[:-5]}", f"{agent['actions'][key]:.3f}", f"{rand['actions'][key]:.3f}")
    used = [n for n in PROGRAM_NAMES
            if agent["programs"][n]["share"] or rand["programs"][n]["share"]]
    lines.append("program uses per episode" + ("" if used else ": none"))
    for name in used:
        row(f"  {name}", f"{agent['programs'][name]['per_episode']:.2f}",
            f"{rand['programs'][name]['per_episode']:.2f}")
    lines.append("reward components (mean total per episode)")
    for key in REWARD_KEYS:
        row(f"  {key}", f"{agent['rewards'][key]:+.3f}", f"{rand['rewards'][key]:+.3f}")
    return "\n".join(lines)


def _check_writable(path: Path) -> None:
    """Refuse an unwritable --json file before the evaluation, not after it."""
    existed = path.exists()
    try:
        with open(path, "a"):
            pass
    except OSError as err:
        raise ConfigError(f"--json {path} cannot be written ({err.strerror}); choose a writable "
                          "path") from None
    if not existed:
        path.unlink()


def run(args, out=None) -> int:
    """Run `hackmatrix eval`; returns the exit status."""
    out = out or sys.stdout
    if args.episodes < 1:
        raise ConfigError(f"--episodes must be at least 1, got {args.episodes}")
    if args.max_steps is not None and args.max_steps < 1:
        raise ConfigError(f"--max-steps must be at least 1, got {args.max_steps}")
    if args.json:
        _check_writable(Path(args.json))
    from hackmatrix.analysis.evaluate import evaluate
    from hackmatrix.analysis.policy import GREEDY, SAMPLE, best_checkpoint, load_policy

    source, seed_index = args.checkpoint, args.seed_index
    if args.best:
        source, seed_index = best_checkpoint(args.checkpoint, args.seed_index)
    policy = load_policy(source, compilation_cache=True, seed_index=seed_index)
    if args.log_to_sinks and policy.exported:
        raise ConfigError("--log-to-sinks needs a checkpoint of a run; an exported policy has "
                          "no run to log to")
    max_steps = args.max_steps or policy.config.env.max_steps_in_episode
    mode = GREEDY if args.policy == "greedy" else SAMPLE
    result = {
        "checkpoint": str(policy.checkpoint), "update": policy.update,
        "env_steps": policy.env_steps, "episodes": args.episodes, "seed": args.seed,
        "max_steps": max_steps,
        **evaluate(policy, args.episodes, args.seed, mode, max_steps),
    }
    if policy.seed is not None:
        result["training_seed"] = policy.seed
    print(format_table(result), file=out)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
        print(f"\nwrote {args.json}", file=out)
    if args.log_to_sinks:
        from hackmatrix.analysis.eval_sinks import log_eval_to_sinks

        names = log_eval_to_sinks(policy, result)
        print(f"logged eval/* at update {policy.update} to: {', '.join(names)}", file=out)
    return 0
