"""One background thread and one bounded queue per sink, so that no sink slows training or another.

Policy: a sink that raises is reported once (its name, the update, the error and traceback) and
disabled for the rest of the run; the other sinks are not affected. A sink whose queue stays full
for `put_timeout_s` (slower than training for that long, or hung) is treated the same way, so
training waits at most that long once and never again on it. Nothing is dropped silently: a
disabled sink's points are lost for that sink only, and the report says so.
"""

import math
import queue
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

from hackmatrix.sinks.base import Sink


def sink_label(sink: Sink) -> str:
    """The name used for `sink` in reports."""
    return getattr(sink, "name", None) or type(sink).__name__


def _apply_nonfinite_policy(sink: Sink, metrics: Mapping[str, float]) -> Mapping[str, float]:
    if getattr(sink, "NONFINITE", "keep") == "drop":
        return {key: value for key, value in metrics.items() if math.isfinite(value)}
    return metrics


class SinkWorker:
    """Feeds one sink from its own thread and isolates its failures."""

    def __init__(self, sink: Sink, queue_size: int, put_timeout_s: float,
                 report: Callable[[str], None]):
        self.sink = sink
        self.label = sink_label(sink)
        self.failed = False
        self.failure = None  # (update or None, first line of the error) once disabled
        self._report = report
        self._put_timeout_s = put_timeout_s
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(
            target=self._run, name=f"hackmatrix-sink-{self.label}", daemon=True
        )
        self._thread.start()

    def _disable(self, step: int | None, why: str) -> None:
        if self.failed:
            return
        self.failed = True
        self.failure = (step, why.splitlines()[0])
        where = f" at update {step}" if step is not None else ""
        self._report(
            f"sink '{self.label}' failed{where} and is disabled for the rest of the run "
            f"(the other sinks keep receiving every update): {why}"
        )

    def _put(self, item: tuple) -> bool:
        if self.failed:
            return False
        try:
            self._queue.put(item, timeout=self._put_timeout_s)
        except queue.Full:
            self._disable(
                item[1] if item[0] == "metrics" else None,
                f"its queue stayed full for {self._put_timeout_s:g} s (the sink is much slower "
                "than training, or hung)",
            )
            return False
        return True

    def submit_metrics(self, step: int, metrics: Mapping[str, float]) -> None:
        """Queue one update for this sink (waits only while the sink's queue is full)."""
        self._put(("metrics", step, metrics))

    def submit_artifact(self, path: Path, step: int) -> None:
        """Queue an artifact for this sink."""
        self._put(("artifact", step, path))

    def submit_video(self, key: str, path: Path, step: int) -> None:
        """Queue an animated GIF of `key` at `step` for this sink."""
        self._put(("video", step, (key, path)))

    def submit_export(self, path: Path, name: str) -> None:
        """Queue an exported policy directory for this sink."""
        self._put(("export", None, (path, name)))

    def request_flush(self) -> threading.Event | None:
        """Queue a flush; the returned event is set once it ran (None if the sink is disabled)."""
        done = threading.Event()
        return done if self._put(("flush", None, done)) else None

    def request_close(self, status: str) -> bool:
        """Queue the final flush and close (a disabled sink is closed too, to free its backend).

        Returns False when the queue stayed full (the worker hangs in a call): nothing to wait for.
        """
        # A disabled sink's worker only drains, so a short wait suffices unless it hangs in a call.
        timeout = min(self._put_timeout_s, 5.0) if self.failed else self._put_timeout_s
        try:
            self._queue.put(("close", None, status), timeout=timeout)
        except queue.Full:
            self._disable(None, f"its queue stayed full for {timeout:g} s at close")
            return False
        return True

    def join(self, deadline: float) -> bool:
        """Wait until the worker ended or `deadline` (time.monotonic) passed; True if it ended."""
        while self._thread.is_alive():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._thread.join(min(left, 0.5))
        return True

    def _close_quietly(self, status: str) -> None:
        try:
            self.sink.close(status)
        except Exception:  # noqa: BLE001 - the sink's failure was already reported once
            return

    def _run(self) -> None:
        while True:
            kind, step, payload = self._queue.get()
            if kind == "close":
                if self.failed:
                    self._close_quietly(payload)
                    return
                try:
                    self.sink.flush()
                    self.sink.close(payload)
                except Exception as err:  # noqa: BLE001 - isolate any sink error
                    self._disable(None, _describe(err, "while closing"))
                return
            if kind == "flush":
                if not self.failed:
                    self._call(step, self.sink.flush)
                payload.set()
                continue
            if self.failed:
                continue
            if kind == "metrics":
                self._call(step, self.sink.log_metrics, _apply_nonfinite_policy(self.sink, payload),
                           step)
            elif kind in ("video", "export"):
                # Sinks written before these calls existed (not subclassing Sink) lack them.
                method = getattr(self.sink, f"log_{kind}", None)
                if method is not None:
                    self._call(step, method, *payload, *([step] if kind == "video" else []))
            else:
                self._call(step, self.sink.log_artifact, payload)

    def _call(self, step: int | None, method: Callable, *args) -> None:
        try:
            method(*args)
        except Exception as err:  # noqa: BLE001 - isolate any sink error
            self._disable(step, _describe(err, f"in {method.__name__}"))


def _describe(err: BaseException, where: str) -> str:
    """The error, where it happened, and its traceback, for the one-time report."""
    trace = "".join(traceback.format_exception(type(err), err, err.__traceback__)).rstrip()
    return f"{type(err).__name__}: {err} ({where})\n{trace}"
