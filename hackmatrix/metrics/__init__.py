"""Metrics: the jittable per-update reduction, naming, health checks, guards and sink fan-out.

Data flows env -> core -> metrics -> sinks: this package imports only constants from the env and
never imports hackmatrix.core.
"""

from hackmatrix.metrics.guards import StepOrderError
from hackmatrix.metrics.health import HealthConfig, HealthMonitor
from hackmatrix.metrics.host import drop_empty_episodes, to_floats, unstack_updates
from hackmatrix.metrics.naming import apply_naming, metric_name
from hackmatrix.metrics.pipeline import MetricsPipeline
from hackmatrix.metrics.reduce import EPISODE_COUNT, EPISODE_PREFIX, reduce_update

__all__ = [
    "EPISODE_COUNT",
    "EPISODE_PREFIX",
    "HealthConfig",
    "HealthMonitor",
    "MetricsPipeline",
    "StepOrderError",
    "apply_naming",
    "drop_empty_episodes",
    "metric_name",
    "reduce_update",
    "to_floats",
    "unstack_updates",
]
