"""`hackmatrix report RUN_DIR`: PNG charts and a Markdown summary of a run's JSONL metrics.

For a multi-seed run (run.seeds) it writes one report per seed, in <out>/seed-<s>/.
"""

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from hackmatrix.errors import HackmatrixError

EPILOG = """examples:
  hackmatrix report runs/ppo-001                 # writes runs/ppo-001/report/
  hackmatrix report runs/ppo-001 --out /tmp/ppo-001-report
  hackmatrix report runs/ppo-002                 # multi-seed: runs/ppo-002/report/seed-<s>/

The summary links the newest RUN_DIR/episodes/*.gif, such as one written by
  hackmatrix watch runs/ppo-001 --speed 0 --gif runs/ppo-001/episodes/watch.gif
"""
REPORT_DIR = "report"
SUMMARY_FILE = "summary.md"
EPISODES_DIR = "episodes"  # animated GIFs of the run's agent (e.g. written by watch --gif)


def register(subparsers) -> None:
    """Add the `report` sub-command to the hackmatrix command line."""
    parser = subparsers.add_parser(
        "report", help="write PNG charts and a Markdown summary of a run",
        description=__doc__ + " Charts: reward breakdown, action shares, episodes, PPO health "
        "(thresholds shaded) and throughput. Needs matplotlib (pip install "
        "'hackmatrix[report]').",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (runs/<name>-NNN)")
    parser.add_argument("--out", metavar="DIR",
                        help=f"where to write the files (default: RUN_DIR/{REPORT_DIR})")
    parser.set_defaults(func=run)


def write_report(run_dir, out_dir=None) -> list:
    """Write the charts and summary.md of a run (of each seed of a multi-seed run); return them."""
    from hackmatrix.analysis.run_metrics import seed_dirs

    out_dir = Path(out_dir) if out_dir else Path(run_dir) / REPORT_DIR
    seeds = seed_dirs(run_dir)
    if not seeds:
        return _write_one(run_dir, out_dir)
    return [path for seed in seeds for path in _write_one(seed, out_dir / seed.name)]


def _write_one(run_dir, out_dir) -> list:
    from hackmatrix.analysis.charts import write_charts
    from hackmatrix.analysis.run_metrics import read_run_metrics
    from hackmatrix.analysis.summary import summary_markdown

    metrics = read_run_metrics(run_dir)
    for note in metrics.skipped:
        print(f"hackmatrix report: warning: {note}", file=sys.stderr)
    if out_dir.exists() and not out_dir.is_dir():
        raise HackmatrixError(f"cannot write the report to '{out_dir}': it is a file, not a "
                              "directory; choose a directory with --out")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        charts = write_charts(metrics, out_dir)
        summary = out_dir / SUMMARY_FILE
        text = summary_markdown(metrics, [p.name for p in charts])
        gif = newest_episode_gif(run_dir)
        if gif is not None:
            # A relative link, so that the report folder and the run can be moved together.
            text += f"\n## Newest episode\n\n![episode]({os.path.relpath(gif, out_dir)})\n"
        summary.write_text(text)
    except OSError as err:
        raise HackmatrixError(f"cannot write the report to '{out_dir}' ({err.strerror}); "
                              "choose a writable directory with --out") from None
    return [*charts, summary]


def newest_episode_gif(run_dir):
    """Return the most recently written RUN_DIR/episodes/*.gif, or None when there is none."""
    gifs = sorted(Path(run_dir, EPISODES_DIR).glob("*.gif"),
                  key=lambda p: (p.stat().st_mtime, p.name))
    return gifs[-1] if gifs else None


def run(args, out=None) -> int:
    """Run `hackmatrix report`; returns the exit status."""
    out = out or sys.stdout
    if importlib.util.find_spec("matplotlib") is None:
        raise HackmatrixError("hackmatrix report needs matplotlib: pip install "
                              "'hackmatrix[report]'")
    paths = write_report(args.run_dir, args.out)
    folders = list(dict.fromkeys(path.parent for path in paths))
    for folder in folders:
        names = [path.name for path in paths if path.parent == folder]
        print(f"wrote {len(names)} files to {folder}:", file=out)
        for name in names:
            print(f"  {name}", file=out)
    return 0
