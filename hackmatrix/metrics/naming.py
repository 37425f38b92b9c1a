"""The metric naming rule: a key containing "/" passes through, a bare key gets "train/"."""

from collections.abc import Mapping
from typing import Any

TRAIN_PREFIX = "train/"


def metric_name(key: str) -> str:
    """Return the published name of `key` ("loss" -> "train/loss", "perf/sps" unchanged)."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"a metric key must be a non-empty string, got {key!r}")
    return key if "/" in key else TRAIN_PREFIX + key


def apply_naming(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Rename every key by `metric_name`; two keys that land on one name are an error."""
    named: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for key, value in metrics.items():
        name = metric_name(key)
        if name in named:
            raise ValueError(
                f"metric keys {origin[name]!r} and {key!r} both publish as {name!r}; "
                "rename one of them"
            )
        named[name] = value
        origin[name] = key
    return named
