"""`run_sweep`: train a sweep's points x seeds as one population per batch, then rank the points.

A grid or random sweep is one batch: every point and seed trains in one compiled program. An
Optuna sweep asks `sweep.batch` trials at a time, trains them as one batch and tells their
scores, until `sweep.points` trials are done. The sweep directory runs/<name>-sweep-NNN/ holds
sweep.json, summary.md, ranking.json, best.yaml and one run directory per batch (batch-001/, ...),
whose sub-directory p<point>-seed-<s>/ is one run per point and seed in every sink.
"""

import dataclasses
import json
import os
import uuid
from pathlib import Path

from hackmatrix.core.checkpoint import write_atomic
from hackmatrix.core.config import flat_dict, replace, seed_list
from hackmatrix.core.population import Member, Population, seed_label
from hackmatrix.core.update import hparams_of
from hackmatrix.sinks.jsonl import read_jsonl
from hackmatrix.sweep.outputs import write_outputs
from hackmatrix.sweep.points import best_config_dict, grid_points, point_config, random_points
from hackmatrix.sweep.ranking import member_score, point_result, rank

BATCH_NAME = "batch"
JSONL = "jsonl"
# A batch that ended either way trained every run to its end (an eval rule stops a batch only
# once every run in it met one), so the sweep goes on.
COMPLETE = ("finished", "early_stopped")


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """How a sweep ended: its directory, the points best first, and the ranked table."""

    sweep_dir: Path
    ranked: list  # of PointResult, best first
    table: str
    status: str  # "finished", or how the batch that stopped it ended
    batch: object  # the RunResult of the last batch trained (the exit status comes from it)


def new_sweep_dir(config) -> Path:
    """Create and return runs/<run.name>-sweep-NNN (the next free number)."""
    root = Path(config.run.runs_dir)
    root.mkdir(parents=True, exist_ok=True)
    index = 1
    while True:
        path = root / f"{config.run.name}-sweep-{index:03d}"
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            index += 1


def with_jsonl(sinks: tuple) -> tuple:
    """Return the sinks with JSONL added when absent: the sweep scores its points from it."""
    names = [s if isinstance(s, str) else s.get("type") for s in sinks]
    return sinks if JSONL in names else (*sinks, JSONL)


def member_label(index: int, seed: int) -> str:
    """Return the sub-run name of point `index` with `seed`."""
    return f"p{index:03d}-{seed_label(seed)}"


def batch_population(configs: dict, seeds, group: str, group_id: str) -> Population:
    """Return the population of a batch: {point index: config} x seeds, points outermost."""
    members = []
    for index, config in configs.items():
        for seed in seeds:
            flat = {**flat_dict(config), "run.seed": seed, "sweep.point": index}
            members.append(Member(member_label(index, seed), seed, hparams_of(config), flat))
    return Population(tuple(members), grouped=True, group=group, group_id=group_id)


def train_batch(base, sweep_dir: Path, configs: dict, seeds, group_id: str, train_fn, log):
    """Train one batch of points (one population, one program); return the run's result."""
    population = batch_population(configs, seeds, sweep_dir.name, group_id)
    run_config = replace(base, run__runs_dir=str(sweep_dir), run__name=BATCH_NAME, run__seeds=1,
                         sinks=with_jsonl(base.sinks))
    return train_fn(run_config, population=population, log=log)


def read_scores(run_dir: Path, indices, seeds, score) -> dict:
    """Return {point index: [score of each seed]} read back from each member's metrics.jsonl."""
    out = {}
    for index in indices:
        out[index] = []
        for seed in seeds:
            path = Path(run_dir) / member_label(index, seed) / "metrics.jsonl"
            rows = read_jsonl(path) if path.is_file() else []
            out[index].append(member_score(rows, score.metric, score.last))
    return out


def run_sweep(base, spec, *, train_fn=None, log=print, ask_tell=None) -> SweepResult:
    """Run a sweep of `spec` over the base config; every point config is checked first.

    `train_fn` is `hackmatrix.core.loop.train` unless given (e.g. with a probe trainer bound).
    `ask_tell` is the Optuna driver (`hackmatrix.sweep.optuna_search`) for method 'optuna'.
    """
    if train_fn is None:
        from hackmatrix.core.loop import train as train_fn
    seeds = seed_list(replace(base, run__seeds=spec.seeds))
    keys = [d.key for d in spec.dimensions]
    check_ranges(base, spec)
    if spec.method == "optuna":
        return ask_tell(base, spec, seeds, keys, train_fn, log)
    points = grid_points(spec) if spec.method == "grid" else random_points(spec)
    configs = {i: point_config(base, values) for i, values in enumerate(points)}
    sweep_dir = new_sweep_dir(base)
    write_sweep_json(sweep_dir, spec, points)
    log(f"sweep {sweep_dir}: {len(points)} points x {len(seeds)} seeds in one program")
    result = train_batch(base, sweep_dir, configs, seeds, uuid.uuid4().hex, train_fn, log)
    scores = read_scores(result.run_dir, configs, seeds, spec.score)
    return finish(sweep_dir, spec, keys, points, configs, scores, result, log)


def check_ranges(base, spec) -> None:
    """Raise ConfigError (before any compile) when a range's end is not a valid config value."""
    for dimension in spec.dimensions:
        for end in (dimension.low, dimension.high) if not dimension.values else ():
            point_config(base, {dimension.key: end})


def finish(sweep_dir, spec, keys, points, configs, scores, batch, log) -> SweepResult:
    """Rank the scored points, write the sweep's outputs and print the table.

    `batch` is the RunResult of the last batch trained.
    """
    results = [point_result(i, points[i], scores[i]) for i in scores]
    ranked = rank(results, spec.score.mode)
    best = configs[ranked[0].index]
    table = write_outputs(sweep_dir, ranked, keys, spec.score, spec.method,
                          best_config_dict(best))
    log(table)
    log(f"sweep directory: {sweep_dir}  (summary.md, ranking.json, best.yaml; "
        f"tensorboard --logdir {sweep_dir})")
    status = "finished" if batch.status in COMPLETE else batch.status
    return SweepResult(sweep_dir, ranked, table, status, batch)


def write_sweep_json(sweep_dir: Path, spec, points) -> None:
    """Record the sweep spec and its points in sweep.json."""
    body = {"method": spec.method, "seeds": spec.seeds,
            "score": dataclasses.asdict(spec.score),
            "dimensions": [dataclasses.asdict(d) for d in spec.dimensions],
            "points": points}
    write_atomic(Path(sweep_dir) / "sweep.json", json.dumps(body, indent=2).encode())
