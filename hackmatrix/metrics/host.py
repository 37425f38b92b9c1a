"""Host-side preparation of the scalars that the jitted reduction hands over."""

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from hackmatrix.metrics.reduce import EPISODE_COUNT, EPISODE_PREFIX


def to_floats(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Convert every value (Python, NumPy or host JAX scalar) to a Python float."""
    out = {}
    for key, value in metrics.items():
        array = np.asarray(value)
        if array.size != 1:
            raise ValueError(f"metric {key!r} is not a scalar (shape {array.shape})")
        out[key] = float(array.reshape(()))
    return out


def drop_empty_episodes(metrics: Mapping[str, float]) -> dict[str, float]:
    """Remove the `episode/*` keys of an update in which no episode finished."""
    count = metrics.get(EPISODE_COUNT)
    if count is not None and math.isfinite(count) and count > 0:
        return dict(metrics)
    return {key: value for key, value in metrics.items() if not key.startswith(EPISODE_PREFIX)}


def unstack_updates(chunk: Mapping[str, Any]) -> list[dict[str, float]]:
    """Split a chunk's host metrics `{name: (num_updates,)}` into one float dict per update."""
    arrays = {key: np.asarray(value) for key, value in chunk.items()}
    lengths = {array.shape for array in arrays.values()}
    if len(lengths) != 1 or len(next(iter(lengths))) != 1:
        raise ValueError(f"unstack_updates: expected one (num_updates,) shape, got {lengths}")
    (num_updates,) = next(iter(lengths))
    return [{key: float(array[i]) for key, array in arrays.items()} for i in range(num_updates)]
