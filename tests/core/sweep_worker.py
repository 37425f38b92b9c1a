"""A small probe sweep as its own process, for the sweep resume test to interrupt and resume.

Usage: python sweep_worker.py METHOD RUNS_DIR [SWEEP_DIR_TO_RESUME], METHOD `grid` (2 points) or
`optuna` (3 trials asked 2 at a time). It ends the way `hackmatrix sweep` does (the exit status
of the last batch, 128 + the signal before training started, 2 on an error).
"""

import functools
import sys

import jax

from hackmatrix.core import load_config, make_train
from hackmatrix.core.loop import Interrupted, train
from hackmatrix.core.train_cli import EXIT_ERROR, exit_status
from hackmatrix.errors import HackmatrixError
from hackmatrix.sweep.optuna_search import run_optuna
from hackmatrix.sweep.run import resume_sweep, run_sweep
from hackmatrix.sweep.spec import parse_sweep
from hackmatrix.sweep.state import load_sweep

UPDATES = 60
BASE = ["env.num_envs=8", "ppo.num_steps=8", f"ppo.total_timesteps={8 * 8 * UPDATES}",
        "network.kind=mlp", "network.hidden_sizes=[16]", "ppo.num_minibatches=2",
        "run.updates_per_chunk=2", "checkpoint.every_updates=6", "sinks=[jsonl]"]
SCORE = {"metric": "train/mean_reward", "last": 4}
SPECS = {
    "grid": {"method": "grid", "seeds": 2, "score": SCORE,
             "params": {"ppo.ent_coef": [0.0, 0.05]}},
    "optuna": {"method": "optuna", "points": 3, "batch": 2, "seed": 3, "score": SCORE,
               "params": {"ppo.learning_rate": {"low": 1e-4, "high": 1e-2}}},
}


def main(method: str, runs_dir: str, resume: str | None = None) -> int:
    """Run (or resume) the sweep; return the exit status `hackmatrix sweep` would."""
    from conftest import ProbeEnv, probe_train_reduce

    try:
        base = (load_sweep(resume).base if resume else
                load_config(None, [*BASE, f"run.runs_dir={runs_dir}",
                                   f"run.compilation_cache={runs_dir}/../xla"]))
        jax.config.update("jax_compilation_cache_dir", base.run.compilation_cache)
        trainer = make_train(base, ProbeEnv(), None, probe_train_reduce)
        train_fn = functools.partial(train, trainer=trainer)
        if resume:
            result = resume_sweep(resume, train_fn=train_fn, ask_tell=run_optuna)
        else:
            result = run_sweep(base, parse_sweep(SPECS[method]), train_fn=train_fn,
                               ask_tell=run_optuna)
        return 0 if result.batch is None else exit_status(result.batch)
    except Interrupted as stop:
        return 128 + stop.signum
    except HackmatrixError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
