"""`hackmatrix export RUN_DIR_OR_CHECKPOINT OUT_DIR`: the trained policy alone, for inference.

OUT_DIR receives policy.json (the network config, the observation layout version, where the
policy came from) and params.msgpack (the network params): no optimizer or env state, no training
config. Load it with `hackmatrix.analysis.policy.load_policy(OUT_DIR)`, or pass OUT_DIR to
`hackmatrix eval` and `hackmatrix watch` in place of a checkpoint.
"""

import argparse
import sys

EPILOG = """examples:
  hackmatrix export runs/ppo-001 exports/ppo-001          # the run's newest checkpoint
  hackmatrix export runs/ppo-001/checkpoints/update_00000064.ckpt exports/ppo-001-u64
  hackmatrix export runs/ppo-002 exports/ppo-002-s1 --seed-index 1   # one seed of a multi-seed run
  hackmatrix eval exports/ppo-001 --episodes 100
"""


def register(subparsers) -> None:
    """Add the `export` sub-command to the hackmatrix command line."""
    parser = subparsers.add_parser(
        "export", help="write a run's policy (network params + config) for inference",
        description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", metavar="RUN_DIR_OR_CHECKPOINT",
                        help="a checkpoint file, or a run directory (its newest checkpoint)")
    parser.add_argument("out_dir", metavar="OUT_DIR", help="the directory to write")
    parser.add_argument("--seed-index", type=int, default=0, metavar="I",
                        help="which seed of a multi-seed run (run.seeds): index I into its seed "
                             "list (0)")
    parser.set_defaults(func=run)


def run(args, out=None) -> int:
    """Run `hackmatrix export`; returns the exit status."""
    from hackmatrix.analysis.export import PARAMS_FILE, export_policy
    from hackmatrix.analysis.policy import load_policy

    out = out or sys.stdout
    policy = load_policy(args.source, seed_index=args.seed_index)
    meta = export_policy(policy, args.out_dir)
    size = (meta.parent / PARAMS_FILE).stat().st_size
    print(f"exported the policy of {policy.checkpoint} (update {policy.update}) to "
          f"{meta.parent}: {meta.name}, {PARAMS_FILE} ({size:,} bytes)", file=out)
    return 0
