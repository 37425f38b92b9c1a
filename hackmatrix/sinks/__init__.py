"""Metrics sinks: the `Sink` interface, run metadata, and the entry-point registry.

Built-ins (registered in pyproject.toml under `hackmatrix.sinks`): console, jsonl, tensorboard,
mlflow, wandb. Another package adds a sink by subclassing `Sink` and registering the class under
the same entry-point group; config.yaml then selects it by that name.
"""

from hackmatrix.options import Option
from hackmatrix.sinks.base import STATUSES, RunInfo, Sink
from hackmatrix.sinks.registry import (
    GROUP,
    available_sinks,
    create_sinks,
    load_sink_class,
    validate_sink_specs,
)

__all__ = [
    "GROUP",
    "STATUSES",
    "Option",
    "RunInfo",
    "Sink",
    "available_sinks",
    "create_sinks",
    "load_sink_class",
    "validate_sink_specs",
]
