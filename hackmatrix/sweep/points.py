"""The points of a grid or random sweep, and the config each point trains with."""

import itertools
import math

import numpy as np

from hackmatrix.core.autoscale import auto_scale_for_batch_size
from hackmatrix.core.config import config_from_dict, flat_dict, to_dict


def grid_points(spec) -> list:
    """Return every combination of the grid's values, as {dotted key: value}, first key slowest."""
    keys = [d.key for d in spec.dimensions]
    return [dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(d.values for d in spec.dimensions))]


def draw(dimension, rng: np.random.Generator) -> float:
    """Draw one value of a range: log-uniform when `dimension.log`, else uniform."""
    if dimension.log:
        return float(math.exp(rng.uniform(math.log(dimension.low), math.log(dimension.high))))
    return float(rng.uniform(dimension.low, dimension.high))


def random_points(spec) -> list:
    """Return `spec.points` points drawn independently from the ranges (seeded by sweep.seed)."""
    rng = np.random.default_rng(spec.seed)
    return [{d.key: draw(d, rng) for d in spec.dimensions} for _ in range(spec.points)]


def point_config(base, values: dict):
    """Return the validated, auto-scaled config of one point: `base` with the point's values.

    The values count as set by the user, so auto-scaling leaves them alone, as it does for
    `hackmatrix train ppo.ent_coef=...`; a value out of its range is a ConfigError here.
    """
    flat = flat_dict(base)
    flat.update(values)
    return auto_scale_for_batch_size(config_from_dict(flat, base.explicit | set(values)))


def best_config_dict(config) -> dict:
    """Return a point's config as the nested mapping of a ready-to-use config file."""
    return to_dict(config)
