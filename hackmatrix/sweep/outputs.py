"""The end of a sweep: the ranked table (console and summary.md), ranking.json and best.yaml."""

import json
import math
from pathlib import Path

import yaml

from hackmatrix.core.checkpoint import write_atomic

SUMMARY_FILE = "summary.md"
RANKING_FILE = "ranking.json"
BEST_FILE = "best.yaml"


def _number(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.4g}"


def ranked_rows(ranked, keys) -> list:
    """Return the table's rows: rank, point, each key's value, score mean, 95% interval, seeds."""
    return [[str(i), f"p{r.index:03d}", *(_number(r.values[k]) for k in keys), _number(r.mean),
             "n/a" if not math.isfinite(r.ci95) else f"±{r.ci95:.3g}", str(len(r.scores))]
            for i, r in enumerate(ranked, 1)]


def table_text(ranked, keys, score) -> str:
    """Return the ranked table as aligned plain text (the console's)."""
    header = ["rank", "point", *keys, f"{score.metric} (last {score.last})", "95% CI", "seeds"]
    rows = [header, *ranked_rows(ranked, keys)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True))
                     for row in rows)


def summary_markdown(ranked, keys, score, method: str, best_file: Path) -> str:
    """Return summary.md: what was swept, the ranked table, and the best config's file."""
    header = ["rank", "point", *keys, f"{score.metric} (mean of last {score.last})", "95% CI",
              "seeds"]
    better = "higher" if score.mode == "max" else "lower"
    how = (f"Ranked by the mean over seeds of `{score.metric}` over each run's last "
           f"{score.last} updates ({better} is better); 95% CI: Student's t interval of that "
           f"mean over the seeds.")
    lines = [f"# Sweep ({method}, {len(ranked)} points)", "", how, "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in ranked_rows(ranked, keys)]
    lines += ["", f"Best config: `{best_file}` (`hackmatrix train --config {best_file}`)", ""]
    return "\n".join(lines)


def ranking_json(ranked, score) -> str:
    """Return ranking.json: the score definition and every point, best first."""
    def clean(x):
        return x if math.isfinite(x) else None

    return json.dumps({
        "score": {"metric": score.metric, "last": score.last, "mode": score.mode},
        "points": [{"rank": i, "point": r.index, "values": r.values,
                    "scores": [clean(s) for s in r.scores], "mean": clean(r.mean),
                    "ci95": clean(r.ci95)} for i, r in enumerate(ranked, 1)],
    }, indent=2)


def write_outputs(sweep_dir: Path, ranked, keys, score, method: str, best_config: dict) -> str:
    """Write summary.md, ranking.json and best.yaml into the sweep directory; return the table."""
    sweep_dir = Path(sweep_dir)
    best_file = sweep_dir / BEST_FILE
    write_atomic(best_file, yaml.safe_dump(best_config, sort_keys=False).encode())
    write_atomic(sweep_dir / RANKING_FILE, ranking_json(ranked, score).encode())
    write_atomic(sweep_dir / SUMMARY_FILE,
                 summary_markdown(ranked, keys, score, method, best_file).encode())
    return table_text(ranked, keys, score)
