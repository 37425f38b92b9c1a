"""A run directory's logged metrics, read back from its JSONL file, and its health thresholds.

A seed's sub-directory of a multi-seed run (runs/<name>-NNN/seed-<s>) reads like a run directory:
its config and run.json are the group's (the parent directory's), named after the seed.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hackmatrix.core.config import load_config
from hackmatrix.core.run_dir import CONFIG_FILE, read_run_info
from hackmatrix.core.seed_group import seed_dir
from hackmatrix.errors import ConfigError, HackmatrixError
from hackmatrix.metrics.health import HealthConfig
from hackmatrix.sinks.state import read_sink_state

DEFAULT_FILE = "metrics.jsonl"


class RunMetricsError(HackmatrixError):
    """A run directory without readable metrics."""


@dataclass(frozen=True)
class RunMetrics:
    """The training points (one per update, step order) and the `eval/*` points of a run."""

    directory: Path
    info: dict  # run.json
    train: list  # dicts {"step", "time", metric: value or None}
    evals: list
    health: HealthConfig
    skipped: tuple = ()  # "<file>:<line> ..." of each line left out, for the reader to report

    def series(self, key: str, rows=None) -> tuple:
        """Return (steps, values) of the points where `key` has a finite value."""
        rows = self.train if rows is None else rows
        pairs = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
        steps = np.asarray([p[0] for p in pairs], np.int64)
        values = np.asarray([p[1] for p in pairs], np.float64)
        finite = np.isfinite(values)
        return steps[finite], values[finite]


def metrics_path(run_dir: Path) -> Path:
    """Return the JSONL file of a run (the jsonl sink's filename option, else metrics.jsonl)."""
    return run_dir / read_sink_state(run_dir, "jsonl").get("filename", DEFAULT_FILE)


def seed_dirs(run_dir) -> list:
    """Return the seed-<s> sub-directories of a multi-seed run (in run.json's seed order), or []."""
    run_dir = Path(run_dir)
    seeds = read_run_info(run_dir).get("seeds") or []
    return [path for path in (seed_dir(run_dir, seed) for seed in seeds) if path.is_dir()]


def _group_dir(run_dir: Path) -> Path:
    """The directory holding config.yaml and run.json: a seed directory's parent."""
    is_seed = run_dir.name.startswith("seed-") and not (run_dir / CONFIG_FILE).is_file()
    return run_dir.parent if is_seed else run_dir


def _run_info(run_dir: Path) -> dict:
    group = _group_dir(run_dir)
    info = read_run_info(group)
    if group != run_dir and info:
        info = {**info, "name": f"{info.get('name', group.name)}-{run_dir.name}"}
    return info


def _health_config(run_dir: Path) -> HealthConfig:
    path = _group_dir(run_dir) / CONFIG_FILE
    if not path.is_file():
        return HealthConfig()
    try:
        return load_config(path).health
    except ConfigError:
        return HealthConfig()


def read_run_metrics(run_dir) -> RunMetrics:
    """Read a run directory's JSONL metrics; the last point of a repeated step wins."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunMetricsError(f"'{run_dir}' is not a run directory")
    path = metrics_path(run_dir)
    if not path.is_file():
        seeds = seed_dirs(run_dir)
        hint = (f"; '{run_dir}' is a multi-seed run: read one of its seed directories "
                f"({', '.join(p.name for p in seeds)})" if seeds else "")
        raise RunMetricsError(f"no metrics file '{path}': the run must log to the jsonl sink "
                              f"(sinks: [..., jsonl] in its config){hint}")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise RunMetricsError(f"cannot read the metrics file '{path}': {err.strerror}") from None
    train, evals, skipped = {}, [], []
    lines = []
    for number, data in enumerate(raw.splitlines(), 1):
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError:
            # A damaged line (e.g. a bad disk block) should not hide every other update's point.
            skipped.append(f"{path}:{number} is not UTF-8 text; skipped")
            continue
        if line.strip():
            lines.append((number, line))
    for index, (number, line) in enumerate(lines):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            # A run killed mid-write leaves a torn last line; everything before it is good.
            if index == len(lines) - 1:
                continue
            raise RunMetricsError(f"{path}:{number} is not valid JSON") from None
        if not isinstance(row, dict) or not isinstance(row.get("step"), int):
            raise RunMetricsError(f"{path}:{number} is not a metrics point with a step")
        if any(k.startswith("eval/") for k in row):
            evals.append(row)
        else:
            train[row["step"]] = row
    if not train:
        raise RunMetricsError(f"{path} holds no training points yet")
    return RunMetrics(directory=run_dir, info=_run_info(run_dir),
                      train=[train[s] for s in sorted(train)], evals=evals,
                      health=_health_config(run_dir), skipped=tuple(skipped))
