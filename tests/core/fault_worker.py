"""A tiny probe training run as its own process, for the fault-injection test to kill and resume.

Usage: python fault_worker.py RUNS_DIR MLFLOW_URI [RUN_DIR_TO_RESUME]. It ends the way
`hackmatrix train` does (`train_cli.exit_status`, 128 + the signal before training started,
2 on an error), so the test checks the real exit codes.
"""

import sys

from hackmatrix.core import load_config, make_train
from hackmatrix.core.loop import Interrupted, train
from hackmatrix.core.resume import prepare_resume
from hackmatrix.core.train_cli import EXIT_ERROR, exit_status
from hackmatrix.errors import HackmatrixError

UPDATES = 240
# Tiny shapes; a checkpoint every 6 updates and a chunk of 2, so kills land between and on them.
FAULT_BASE = ["env.num_envs=16", "ppo.num_steps=8", f"ppo.total_timesteps={16 * 8 * UPDATES}",
              "network.hidden_sizes=[16]", "ppo.num_minibatches=2", "run.updates_per_chunk=2",
              "checkpoint.every_updates=6", "checkpoint.keep_last=3"]


def main(runs_dir: str, mlflow_uri: str, resume: str | None = None) -> int:
    """Train (or resume) the probe run; return the exit status `hackmatrix train` would."""
    # Imported here: the test imports UPDATES from this module, and inside pytest the name
    # `conftest` may be another directory's; run as a script, it is this directory's.
    from conftest import ProbeEnv, probe_train_reduce

    try:
        if resume:
            config, point = prepare_resume(resume)
        else:
            sinks = (f"sinks=[jsonl, tensorboard, {{type: mlflow, tracking_uri: '{mlflow_uri}', "
                     f"artifact_location: '{runs_dir}/artifacts'}}]")
            config = load_config(None, [*FAULT_BASE, f"run.runs_dir={runs_dir}", sinks])
            point = None
        trainer = make_train(config, ProbeEnv(), None, probe_train_reduce)
        return exit_status(train(config, resume=point, trainer=trainer))
    except Interrupted as stop:
        return 128 + stop.signum
    except HackmatrixError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
