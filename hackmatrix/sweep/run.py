"""`run_sweep`: train a sweep's points x seeds as one population per batch, then rank the points.

A grid or random sweep is one batch: every point and seed trains in one compiled program. An
Optuna sweep asks `sweep.batch` trials at a time, trains them as one batch and tells their
scores, until `sweep.points` trials are done. The sweep directory runs/<name>-sweep-NNN/ holds
sweep.json (the record `resume_sweep` continues from, hackmatrix.sweep.state), summary.md,
ranking.json, best.yaml and one run directory per batch (batch-001/, ...), whose sub-directory
p<point>-seed-<s>/ is one run per point and seed in every sink.
"""

import dataclasses
from pathlib import Path

from hackmatrix.core.config import flat_dict, replace
from hackmatrix.core.population import Member, Population, seed_label
from hackmatrix.core.update import hparams_of
from hackmatrix.sinks.jsonl import read_jsonl
from hackmatrix.sweep.outputs import write_outputs
from hackmatrix.sweep.points import best_config_dict, grid_points, point_config, random_points
from hackmatrix.sweep.ranking import member_score, point_result, rank
from hackmatrix.sweep.state import COMPLETE, load_sweep, new_sweep

BATCH_NAME = "batch"
JSONL = "jsonl"


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """How a sweep ended: its directory, the points best first, and the ranked table."""

    sweep_dir: Path
    ranked: list  # of PointResult, best first
    table: str
    status: str  # "finished", or how the batch that stopped it ended
    # The RunResult of the last batch this process trained (the exit status comes from it);
    # None when a resumed sweep had nothing left to train.
    batch: object


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


def train_batch(state, index: int, train_fn, log, overrides=()):
    """Train batch `index` of the sweep, or resume it from its checkpoint; return the RunResult.

    Its directory and how it ended go to sweep.json as soon as it returns.
    """
    from hackmatrix.core.resume import prepare_resume

    batch = state.batches[index]
    configs = state.configs(batch["points"])
    population = batch_population(configs, state.seeds, state.sweep_dir.name, state.group_id)
    previous = state.resumable_dir(index)
    if previous is not None:
        config, point = prepare_resume(previous, overrides)
        log(f"resuming {previous.name} at update {point.header['update']}")
        result = train_fn(config, resume=point, population=population, log=log)
    else:
        run_config = replace(state.base, run__runs_dir=str(state.sweep_dir),
                             run__name=BATCH_NAME, run__seeds=1,
                             sinks=with_jsonl(state.base.sinks))
        result = train_fn(run_config, population=population, log=log)
    batch.update(dir=result.run_dir.name, status=result.status)
    state.save()
    return result


def batch_scores(state, index: int) -> dict:
    """Return {point index: [score of each seed]} of batch `index` (empty before it trained)."""
    batch, path = state.batches[index], state.batch_dir(index)
    if path is None:
        return {}
    return read_scores(path, batch["points"], state.seeds, state.spec.score)


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


def new_sweep_state(base, spec):
    """Check every point config of a new sweep, then create its directory and sweep.json."""
    check_ranges(base, spec)
    points = []
    if spec.method != "optuna":
        points = grid_points(spec) if spec.method == "grid" else random_points(spec)
        for values in points:
            point_config(base, values)
    state = new_sweep(base, spec)
    if points:
        state.add_batch(points)
    return state


def run_sweep(base, spec, *, train_fn=None, log=print, ask_tell=None) -> SweepResult:
    """Run a sweep of `spec` over the base config; every point config is checked first.

    `train_fn` is `hackmatrix.core.loop.train` unless given (e.g. with a probe trainer bound).
    `ask_tell` is the Optuna driver (`hackmatrix.sweep.optuna_search`) for method 'optuna'.
    """
    return continue_sweep(new_sweep_state(base, spec), train_fn, log, ask_tell)


def resume_sweep(sweep_dir, overrides=(), *, train_fn=None, log=print,
                 ask_tell=None) -> SweepResult:
    """Resume the sweep of `sweep_dir` where it stopped (`hackmatrix sweep --resume`).

    `overrides` may change only what a resumed run allows (sinks, checkpoint.*, ...).
    """
    state = load_sweep(sweep_dir, overrides)
    log(f"resuming sweep {state.sweep_dir}: {state.progress()}")
    return continue_sweep(state, train_fn, log, ask_tell, overrides)


def continue_sweep(state, train_fn, log, ask_tell, overrides=()) -> SweepResult:
    """Train every batch of the sweep that has not ended yet, then rank the points."""
    if train_fn is None:
        from hackmatrix.core.loop import train as train_fn
    if state.spec.method == "optuna":
        return ask_tell(state, train_fn, log, overrides)
    (batch,) = state.batches
    result = None
    if batch["status"] not in COMPLETE:
        log(f"sweep {state.sweep_dir}: {len(state.points)} points x {len(state.seeds)} seeds "
            f"in one program")
        result = train_batch(state, 0, train_fn, log, overrides)
    return finish(state, result, log)


def check_ranges(base, spec) -> None:
    """Raise ConfigError (before any compile) when a range's end is not a valid config value."""
    for dimension in spec.dimensions:
        for end in (dimension.low, dimension.high) if not dimension.values else ():
            point_config(base, {dimension.key: end})


def finish(state, result, log) -> SweepResult:
    """Rank the scored points, write the sweep's outputs and print the table.

    `result` is the RunResult of the last batch trained by this process (None: none was).
    """
    scores = {}
    for index in range(len(state.batches)):
        scores.update(batch_scores(state, index))
    spec = state.spec
    results = [point_result(i, state.points[i], scores[i]) for i in sorted(scores)]
    ranked = rank(results, spec.score.mode)
    best = state.configs([ranked[0].index])[ranked[0].index]
    table = write_outputs(state.sweep_dir, ranked, [d.key for d in spec.dimensions], spec.score,
                          spec.method, best_config_dict(best))
    log(table)
    log(f"sweep directory: {state.sweep_dir}  (summary.md, ranking.json, best.yaml; "
        f"tensorboard --logdir {state.sweep_dir})")
    status = "finished" if result is None or result.status in COMPLETE else result.status
    if status == "interrupted":
        log(f"the sweep stopped before its end; continue it with: hackmatrix sweep --resume "
            f"{state.sweep_dir}")
    return SweepResult(state.sweep_dir, ranked, table, status, result)
