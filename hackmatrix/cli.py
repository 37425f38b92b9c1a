"""The `hackmatrix` command: a thin dispatcher over the subcommands of each area."""

import argparse
import importlib
import sys

from hackmatrix.errors import HackmatrixError

# Subcommand name -> module providing `register(subparsers)`; imported lazily so that
# `hackmatrix --help` stays fast and one area's missing extra never breaks another's command.
SUBCOMMANDS = {
    "train": "hackmatrix.core.train_cli",
    "play": "hackmatrix.reference.play",
    "eval": "hackmatrix.analysis.eval_cli",
    "watch": "hackmatrix.analysis.watch_cli",
    "report": "hackmatrix.analysis.report_cli",
    "export": "hackmatrix.analysis.export_cli",
    "sweep": "hackmatrix.sweep.cli",
}


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="hackmatrix", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in SUBCOMMANDS.values():
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the process exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except HackmatrixError as err:
        print(f"hackmatrix {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
