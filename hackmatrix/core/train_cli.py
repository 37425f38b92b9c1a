"""`hackmatrix train`: train with config.yaml (+ dotted overrides), or resume a run exactly.

Exit status: 0 finished (or stopped early by an eval rule: eval.target, eval.patience); 1 stopped
by a health check (stop_when_unhealthy); 2 an error (bad config, corrupt checkpoint, locked run directory, ...); 3 a sink failed during the run (unless
run.sinks_failure is warn); 130 interrupted by SIGINT (Ctrl-C) and 143 by SIGTERM (128 + the
signal number, as shells report signals), after the checkpoint was written.
"""

import argparse
import signal
import sys
from pathlib import Path

EXIT_FINISHED, EXIT_STOPPED, EXIT_ERROR, EXIT_SINK_FAILED = 0, 1, 2, 3

DEFAULT_CONFIG = "config.yaml"
EPILOG = """examples:
  hackmatrix train                                   # config.yaml in the current directory
  hackmatrix train --config other.yaml ppo.ent_coef=0.2 env.num_envs=512
  hackmatrix train --resume runs/ppo-003             # continue from its newest checkpoint
  hackmatrix train --resume runs/ppo-003/checkpoints/update_00000048.ckpt sinks=[console]

exit status: 0 finished, 1 stopped by a health check, 2 error, 3 a sink failed,
             130 Ctrl-C, 143 SIGTERM
"""


def register(subparsers) -> None:
    """Add the `train` sub-command to the hackmatrix command line."""
    parser = subparsers.add_parser(
        "train", help="train a PPO agent (or resume a run)",
        description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", metavar="PATH",
                        help=f"YAML config (default: ./{DEFAULT_CONFIG} if present, else the "
                             f"built-in defaults, which are the same)")
    parser.add_argument("--resume", metavar="RUN_DIR_OR_CHECKPOINT",
                        help="continue a run from a checkpoint file or a run directory's newest "
                             "checkpoint; only sinks, checkpoint.*, metrics.health.* and "
                             "run.compilation_cache may be overridden")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="dotted config overrides, values read as YAML (ppo.ent_coef=0.2)")
    parser.set_defaults(func=run)


def _set_up_jax(config) -> None:
    """Start multi-host JAX and the persistent compilation cache, before any device is used."""
    import jax

    from hackmatrix.core.distributed import initialize_distributed

    if config.run.distributed:
        initialize_distributed()
    if config.run.compilation_cache:
        path = Path(config.run.compilation_cache).expanduser()
        jax.config.update("jax_compilation_cache_dir", str(path))


def exit_status(result, sinks_failure: str = "fail") -> int:
    """Return the process exit status of a finished, stopped or interrupted run."""
    if result.status == "interrupted":
        return 128 + (result.signum or signal.SIGINT)
    if result.sink_failures and sinks_failure == "fail":
        return EXIT_SINK_FAILED
    return EXIT_STOPPED if result.status == "stopped" else EXIT_FINISHED


def run(args) -> int:
    """Run `hackmatrix train`; returns the exit status (see the module docstring)."""
    from hackmatrix.core.config import load_config
    from hackmatrix.core.loop import train
    from hackmatrix.core.resume import prepare_resume
    from hackmatrix.core.signals import Interrupted
    from hackmatrix.errors import ConfigError

    if args.resume:
        if args.config:
            raise ConfigError("--config cannot be combined with --resume: a resumed run keeps "
                              "the config stored in its checkpoint")
        config, point = prepare_resume(args.resume, args.overrides)
    else:
        path = args.config
        if path is None and Path(DEFAULT_CONFIG).is_file():
            path = DEFAULT_CONFIG
        config, point = load_config(path, args.overrides), None
    _set_up_jax(config)
    try:
        result = train(config, resume=point)
    except Interrupted as stop:
        print(f"\n{signal.Signals(stop.signum).name} before training started: nothing was "
              "trained, no checkpoint written", file=sys.stderr)
        return 128 + stop.signum
    return exit_status(result, config.run.sinks_failure)
