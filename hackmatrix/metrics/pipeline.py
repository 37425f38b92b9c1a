"""The host side of the metrics: naming, guards, health, and fan-out to the sinks.

The trainer calls, per PPO update, `publish(step, metrics)` with the host copy of that update's
reduced scalars (see `hackmatrix.metrics.reduce`) plus `perf/env_steps` (cumulative), `perf/sps`
and `perf/update_seconds`; `log_artifact(path)` after writing a checkpoint; and `close(status)` at
the end — or it uses the pipeline as a context manager, which closes with "finished",
"interrupted" (KeyboardInterrupt) or "failed" (any other exception) and drains every sink first.

`publish` runs on the training thread and only prepares the point (a few hundred floats); the
sinks receive it on their own threads (see `hackmatrix.metrics.fanout`), so a slow or failing sink
never holds training back. Steps must strictly increase (StepOrderError otherwise). Non-finite
values are reported once per key with the update where they first appeared (and counted; the
counts are printed at close) and then handled by each sink's documented NONFINITE policy.
"""

import sys
import time
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Self

from hackmatrix.metrics.fanout import SinkWorker
from hackmatrix.metrics.guards import NonFiniteTracker, StepGuard
from hackmatrix.metrics.health import HealthConfig, HealthMonitor
from hackmatrix.metrics.host import drop_empty_episodes, to_floats
from hackmatrix.metrics.naming import apply_naming
from hackmatrix.sinks.base import STATUSES, Sink

DEFAULT_HEALTH = HealthConfig()


def report_to_stderr(message: str) -> None:
    """The default reporter: one prefixed message on standard error."""
    print(f"[hackmatrix metrics] {message}", file=sys.stderr, flush=True)


class MetricsPipeline:
    """Publishes each update's scalars to every sink without blocking training."""

    def __init__(
        self,
        sinks: Sequence[Sink],
        health: HealthConfig = DEFAULT_HEALTH,
        queue_size: int = 1024,
        *,
        start_step: int | None = None,
        report: Callable[[str], None] = report_to_stderr,
        put_timeout_s: float = 60.0,
        close_timeout_s: float = 120.0,
        check_health: bool = True,
    ):
        """Start one worker per sink; `start_step` defaults to the sinks' RunInfo.start_step.

        queue_size: updates buffered per sink before `publish` waits on that sink (for at most
        put_timeout_s, after which the sink is disabled and reported). close_timeout_s bounds
        how long `close` waits for all sinks to drain, flush and close. Without check_health
        no health/* keys are added and no health summary is printed (for a view of points that
        were already checked, e.g. the console's mean over the seeds of a multi-seed run).
        """
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        if start_step is None:
            start_step = max(
                (s.run_info.start_step for s in sinks if getattr(s, "run_info", None)), default=0
            )
        self.health = health
        self._check_health = check_health
        self._report = report
        self._close_timeout_s = close_timeout_s
        self._guard = StepGuard(start_step)
        self._monitor = HealthMonitor(health)
        self._nonfinite = NonFiniteTracker()
        self._workers = [SinkWorker(s, queue_size, put_timeout_s, report) for s in sinks]
        self._stop_reported = False
        self.closed = False

    @property
    def last_step(self) -> int:
        """The last step published (the start step before any)."""
        return self._guard.last

    def publish(self, step: int, metrics: Mapping[str, float]) -> dict[str, float]:
        """Name, check and fan out one update's scalars; returns the point as published."""
        if self.closed:
            raise RuntimeError("MetricsPipeline.publish called after close")
        point = drop_empty_episodes(to_floats(apply_naming(metrics)))
        step = self._guard.check(step)
        health, messages = self._monitor.update(step, point) if self._check_health else ({}, [])
        point.update(health)
        new_nonfinite = self._nonfinite.scan(step, point)
        if new_nonfinite:
            self._report(self._describe_nonfinite(step, point, new_nonfinite))
        frozen = types.MappingProxyType(point)
        for worker in self._workers:
            worker.submit_metrics(step, frozen)
        for message in messages:
            self._report(message)
        if self.should_stop and not self._stop_reported:
            self._stop_reported = True
            self._report(
                f"stop_when_unhealthy: a health check failed {self.health.stop_patience} updates "
                f"in a row (update {step}); should_stop is now true"
            )
        return point

    def _describe_nonfinite(self, step: int, point: Mapping[str, float], keys: list[str]) -> str:
        values = ", ".join(f"{key}={point[key]}" for key in keys)
        policies = ", ".join(
            f"{w.label}: {getattr(w.sink, 'NONFINITE', 'keep')}" for w in self._workers
        )
        return (
            f"non-finite value(s) at update {step}: {values} (reported on first occurrence; "
            f"counted at close). Sink policies (keep = stored as the backend stores NaN/inf, "
            f"drop = key left out of that sink's point): {policies or 'no sinks'}"
        )

    def log_artifact(self, path: str | Path) -> None:
        """Hand a file or directory (a checkpoint) to every sink; it must exist until close."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"artifact {path} does not exist")
        for worker in self._workers:
            worker.submit_artifact(path, self._guard.last)

    def log_video(self, key: str, path: str | Path, step: int) -> None:
        """Hand an animated GIF of update `step` to every sink (callable from any thread)."""
        for worker in self._workers:
            worker.submit_video(key, Path(path), step)

    def log_export(self, path: str | Path, name: str) -> None:
        """Hand an exported policy directory (`name`: final or best) to every sink."""
        for worker in self._workers:
            worker.submit_export(Path(path), name)

    def flush(self, timeout_s: float | None = None) -> bool:
        """Wait until every sink has taken and flushed all points so far; False on timeout."""
        deadline = time.monotonic() + (self._close_timeout_s if timeout_s is None else timeout_s)
        events = [worker.request_flush() for worker in self._workers]
        return all(
            event.wait(max(0.0, deadline - time.monotonic())) for event in events if event
        )

    def health_summary(self) -> dict[str, dict]:
        """Per check: updates evaluated, fraction healthy, worst value, first failing update."""
        return self._monitor.summary()

    @property
    def should_stop(self) -> bool:
        """True when stop_when_unhealthy is set and a check failed stop_patience updates running."""
        return self.health.stop_when_unhealthy and self._monitor.unhealthy_for_patience

    @property
    def failed_sinks(self) -> list[str]:
        """Names of the sinks disabled after an error."""
        return [worker.label for worker in self._workers if worker.failed]

    @property
    def sink_failures(self) -> list[str]:
        """One line per disabled sink: its name, from which update, what it holds, the error."""
        lines = []
        for worker in self._workers:
            if worker.failure is None:
                continue
            step, error = worker.failure
            holds = (f"from update {step}; it holds the updates before {step}" if step is not None
                     else "outside an update (flush, artifact or close); its last points may "
                          "be missing")
            lines.append(f"sink '{worker.label}' failed {holds}: {error}")
        return lines

    def close(self, status: str = "finished") -> None:
        """Drain, flush and close every sink (bounded by close_timeout_s); print the summaries."""
        if status not in STATUSES:
            raise ValueError(f"close status must be one of {STATUSES}, got {status!r}")
        if self.closed:
            return
        self.closed = True
        deadline = time.monotonic() + self._close_timeout_s
        closing = [worker for worker in self._workers if worker.request_close(status)]
        late = [w.label for w in self._workers if w not in closing or not w.join(deadline)]
        if late:
            self._report(
                f"sink(s) {', '.join(late)} did not finish closing within "
                f"{self._close_timeout_s:g} s; their last points may be lost"
            )
        if self._check_health:
            self._report(self._monitor.format_summary())
        if self._nonfinite.counts:
            self._report("non-finite values during the run:\n" + self._nonfinite.format_summary())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            status = "finished"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "interrupted"
        else:
            status = "failed"
        self.close(status)

