"""`hackmatrix sweep`: train a grid, random or Optuna sweep of PPO hyperparameters in one program.

The sweep is the `sweep:` section of the config file, or of the file given with --sweep (a YAML
file whose top level holds `sweep:`). Exit status as `hackmatrix train`'s, of the last batch
trained: 0 finished (or stopped early by an eval rule), 1 stopped by a health check, 2 an error
(bad config or sweep spec, found before anything compiles), 3 a sink failed, 130/143 interrupted
by SIGINT/SIGTERM. Ctrl-C stops as in `hackmatrix train` (the batch training checkpoints and
flushes every sink); `hackmatrix sweep --resume DIR` continues the sweep from there.
"""

import argparse
import signal
import sys
from pathlib import Path

from hackmatrix.core.train_cli import DEFAULT_CONFIG

EPILOG = """examples:
  hackmatrix sweep --sweep sweep.yaml                 # the sweep in sweep.yaml, config.yaml's run
  hackmatrix sweep --config small.yaml ppo.total_timesteps=200000
  hackmatrix sweep --resume runs/ppo-sweep-001        # continue a stopped sweep
"""


def register(subparsers) -> None:
    """Add the `sweep` sub-command to the hackmatrix command line."""
    parser = subparsers.add_parser(
        "sweep", help="train many PPO hyperparameter points at once and rank them",
        description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", metavar="PATH",
                        help=f"YAML config (default: ./{DEFAULT_CONFIG} if present)")
    parser.add_argument("--sweep", metavar="PATH",
                        help="YAML file holding the `sweep:` section (default: the config's)")
    parser.add_argument("--resume", metavar="SWEEP_DIR",
                        help="continue the sweep of this directory where it stopped (its spec "
                             "and base config come from its sweep.json)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="dotted config overrides of the base config (ppo.num_steps=64); "
                             "with --resume only those a resumed run allows (sinks, ...)")
    parser.set_defaults(func=run)


def read_sweep_section(config_path, sweep_path):
    """Return the `sweep:` mapping of the sweep file, else of the config file; ConfigError if none."""
    from hackmatrix.core.config.file import read_config_file
    from hackmatrix.errors import ConfigError

    for path in (sweep_path, config_path):
        if path is not None:
            section = read_config_file(path).get("sweep")
            if section is not None:
                return section
            if path == sweep_path:
                raise ConfigError(f"sweep file '{path}' has no top-level 'sweep:' section")
    raise ConfigError("no sweep to run: give --sweep FILE, or uncomment the 'sweep:' section of "
                      "the config file")


def run(args) -> int:
    """Run `hackmatrix sweep`; returns the exit status."""
    from hackmatrix.core.config import load_config
    from hackmatrix.core.signals import Interrupted
    from hackmatrix.core.train_cli import _set_up_jax, exit_status
    from hackmatrix.errors import ConfigError
    from hackmatrix.sweep.optuna_search import run_optuna
    from hackmatrix.sweep.run import continue_sweep, new_sweep_state
    from hackmatrix.sweep.spec import parse_sweep
    from hackmatrix.sweep.state import load_sweep

    if args.resume is not None:
        if args.config is not None or args.sweep is not None:
            raise ConfigError("--resume takes the sweep and its base config from the sweep "
                              "directory's sweep.json; leave out --config and --sweep")
        state = load_sweep(args.resume, args.overrides)
        print(f"resuming sweep {state.sweep_dir}: {state.progress()}")
    else:
        path = args.config
        if path is None and Path(DEFAULT_CONFIG).is_file():
            path = DEFAULT_CONFIG
        base = load_config(path, args.overrides)
        state = new_sweep_state(base, parse_sweep(read_sweep_section(path, args.sweep)))
    _set_up_jax(state.base)
    try:
        result = continue_sweep(state, None, print, run_optuna, args.overrides
                                if args.resume is not None else ())
    except Interrupted as stop:
        print(f"\n{signal.Signals(stop.signum).name} before training started; "
              f"continue with: hackmatrix sweep --resume {state.sweep_dir}", file=sys.stderr)
        return 128 + stop.signum
    if result.batch is None:
        return 0
    return exit_status(result.batch, state.base.run.sinks_failure)
