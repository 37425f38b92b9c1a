"""A small training run as its own process, for the fault-injection test to kill and resume.

Usage: python fault_worker.py ENV SEEDS RUNS_DIR MLFLOW_URI [RUN_DIR_TO_RESUME], ENV `probe` (the
one-step bandit of conftest) or `game` (the real HackMatrix env). Every sink is on: JSONL,
TensorBoard, MLflow (at MLFLOW_URI) and wandb (offline). It ends the way `hackmatrix train` does
(`train_cli.exit_status`, 128 + the signal before training started, 2 on an error), so the test
checks the real exit codes.
"""

import sys

import jax

from hackmatrix.core import load_config, make_train
from hackmatrix.core.loop import Interrupted, train
from hackmatrix.core.resume import prepare_resume
from hackmatrix.core.train_cli import EXIT_ERROR, exit_status
from hackmatrix.errors import HackmatrixError

UPDATES = {"probe": 96, "game": 40}
# Tiny shapes; a checkpoint every 6 updates and a chunk of 2, so kills land between and on them.
FAULT_BASE = ["env.num_envs=8", "ppo.num_steps=8", "network.hidden_sizes=[16]",
              "ppo.num_minibatches=2", "run.updates_per_chunk=2", "checkpoint.every_updates=6",
              "checkpoint.keep_last=3"]


def overrides(env: str, seeds: int, runs_dir: str, mlflow_uri: str) -> list[str]:
    """The config of a new run: tiny shapes, every sink, a compilation cache shared by the runs."""
    sinks = (f"sinks=[jsonl, tensorboard, wandb, {{type: mlflow, tracking_uri: '{mlflow_uri}', "
             f"artifact_location: '{runs_dir}/artifacts'}}]")
    return [*FAULT_BASE, f"ppo.total_timesteps={8 * 8 * UPDATES[env]}", f"run.seeds={seeds}",
            f"run.runs_dir={runs_dir}", f"run.compilation_cache={runs_dir}/../xla", sinks]


def main(env: str, seeds: str, runs_dir: str, mlflow_uri: str, resume: str | None = None) -> int:
    """Train (or resume) the run; return the exit status `hackmatrix train` would."""
    # Imported here: the test imports this module, and inside pytest the name `conftest` may be
    # another directory's; run as a script, it is this directory's.
    from conftest import ProbeEnv, probe_train_reduce

    try:
        if resume:
            config, point = prepare_resume(resume)
        else:
            config = load_config(None, overrides(env, int(seeds), runs_dir, mlflow_uri))
            point = None
        jax.config.update("jax_compilation_cache_dir", config.run.compilation_cache)
        trainer = make_train(config, ProbeEnv(), None, probe_train_reduce) if env == "probe" \
            else None
        return exit_status(train(config, resume=point, trainer=trainer))
    except Interrupted as stop:
        return 128 + stop.signum
    except HackmatrixError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
