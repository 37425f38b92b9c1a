"""Scores of a sweep's points: each seed's score, their mean and 95% interval, the ranked table."""

import dataclasses
import math

import numpy as np

# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom (1.96 beyond).
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


@dataclasses.dataclass(frozen=True)
class PointResult:
    """One point's values and its score over its seeds."""

    index: int  # the point's number in the sweep
    values: dict  # dotted key -> value
    scores: tuple  # one per seed (NaN where the metric was never logged)
    mean: float
    ci95: float  # half-width of the 95% interval of the mean (NaN with one seed)


def member_score(rows, metric: str, last: int) -> float:
    """Return the mean of `metric` over the last `last` updates of one run's rows (NaN if none)."""
    if not rows:
        return math.nan
    final = max(row["step"] for row in rows)
    values = [row[metric] for row in rows if row["step"] > final - last and metric in row]
    return float(np.mean(values)) if values else math.nan


def interval(scores) -> tuple:
    """Return (mean, 95% half-width) of the finite scores (Student's t; NaN where undefined)."""
    finite = np.asarray([s for s in scores if math.isfinite(s)], np.float64)
    if finite.size == 0:
        return math.nan, math.nan
    if finite.size == 1:
        return float(finite[0]), math.nan
    t = T_975[finite.size - 2] if finite.size - 1 <= len(T_975) else 1.96
    return float(finite.mean()), float(t * finite.std(ddof=1) / math.sqrt(finite.size))


def point_result(index: int, values: dict, scores) -> PointResult:
    """Return the PointResult of a point from its seeds' scores."""
    mean, ci95 = interval(scores)
    return PointResult(index, dict(values), tuple(float(s) for s in scores), mean, ci95)


def rank(results, mode: str) -> list:
    """Return the results best first (`mode` "max": higher scores first); unscored ones last."""
    sign = -1.0 if mode == "max" else 1.0
    return sorted(results, key=lambda r: (not math.isfinite(r.mean),
                                          sign * r.mean if math.isfinite(r.mean) else 0.0,
                                          r.index))
