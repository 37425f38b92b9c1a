"""The console sink: a progress bar over the planned updates and a compact table every N updates.

On a terminal the bar redraws in place every update; elsewhere (CI logs, files) it appears only in
the table's header line, so logs stay readable. NONFINITE policy "keep": shown as nan / inf.
"""

import math
import sys
import time
from collections.abc import Mapping
from typing import ClassVar

from hackmatrix.options import Option
from hackmatrix.sinks.base import RunInfo, Sink

DEFAULT_KEYS = [
    "train/mean_reward", "episode/return_mean", "episode/length_mean", "episode/win_rate",
    "episode/final_stage_mean", "stats/highest_stage", "train/entropy", "train/approx_kl",
    "train/clip_frac", "train/value_loss", "train/policy_loss", "train/learning_rate",
]
BAR_WIDTH = 24


def format_value(value: float) -> str:
    """A fixed-width, readable rendering of one scalar."""
    if not math.isfinite(value):
        return f"{value:>11}"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:>11.3e}"
    return f"{value:>11.4f}"


def format_duration(seconds: float) -> str:
    """Seconds as 1h02m, 3m05s or 42s."""
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class ConsoleSink(Sink):
    """Prints progress and a metrics table to standard output (or standard error)."""

    NAME = "console"
    OPTIONS: ClassVar[Mapping[str, Option]] = {
        "every": Option((int,), 10, "print the table every this many updates", low=1),
        "total": Option((int, type(None)), None, "planned updates (default: the run's total)",
                        low=1),
        "keys": Option((list, type(None)), None, "metric names in the table (default: a "
                       "curated set)", items=Option((str,), "", "metric name"), min_items=0),
        "stream": Option((str,), "stdout", "where to print", choices=("stdout", "stderr")),
        "progress_bar": Option((bool, type(None)), None, "redraw a bar every update (default: "
                               "only when the stream is a terminal)"),
    }

    def __init__(self, run_info: RunInfo, **options):
        super().__init__(run_info, **options)
        self.total = self.options["total"] or run_info.total_updates
        self.keys = self.options["keys"] or DEFAULT_KEYS
        self._start_step = run_info.start_step
        self._started = time.monotonic()
        self._last_step = run_info.start_step
        self._bar_open = False
        self._bar_width = 0
        resumed = f", resumed after update {run_info.start_step}" if run_info.resumed else ""
        self._print(f"run {run_info.name} ({run_info.run_id}) in {run_info.directory}{resumed}")

    @property
    def stream(self):
        """The stream, looked up at each write (so redirections made later are honoured)."""
        return sys.stderr if self.options["stream"] == "stderr" else sys.stdout

    def _bar_enabled(self) -> bool:
        flag = self.options["progress_bar"]
        return self.stream.isatty() if flag is None else flag

    def _print(self, text: str) -> None:
        if self._bar_open:
            self.stream.write("\n")
            self._bar_open = False
        self.stream.write(text + "\n")

    def progress(self, step: int, metrics: Mapping[str, float]) -> str:
        """The progress line: bar, update count, throughput and time left."""
        done = step - self._start_step
        per_update = (time.monotonic() - self._started) / max(done, 1)
        parts = []
        if self.total:
            fraction = min(step / self.total, 1.0)
            filled = round(fraction * BAR_WIDTH)
            parts.append(f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {step}/{self.total} "
                         f"{fraction:6.1%}")
        else:
            parts.append(f"update {step}")
        if "perf/env_steps" in metrics:
            parts.append(f"{metrics['perf/env_steps']:,.0f} env steps")
        if "perf/sps" in metrics:
            parts.append(f"{metrics['perf/sps']:,.0f} sps")
        if self.total and step < self.total:
            parts.append(f"ETA {format_duration(per_update * (self.total - step))}")
        return " | ".join(parts)

    def table(self, step: int, metrics: Mapping[str, float]) -> str:
        """The progress line and the chosen metrics, two per row."""
        cells = [
            f"{key:<26}{format_value(metrics[key]) if key in metrics else '-':>11}"
            for key in self.keys
        ]
        rows = ["   ".join(cells[i:i + 2]) for i in range(0, len(cells), 2)]
        failing = sorted(
            key[len("health/"):-len("_ok")] for key, value in metrics.items()
            if key.startswith("health/") and key.endswith("_ok") and key != "health/all_ok"
            and value == 0.0
        )
        lines = [self.progress(step, metrics)] + ["  " + row for row in rows]
        if failing:
            lines.append("  health: failing " + ", ".join(failing))
        return "\n".join(lines)

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """Redraw the bar; print the table on the first, every N-th and the last update."""
        first = self._last_step == self._start_step
        self._last_step = step
        if first or step % self.options["every"] == 0 or step == self.total:
            self._print(self.table(step, metrics))
        elif self._bar_enabled():
            line = self.progress(step, metrics)
            # Pad over the previous, possibly longer, bar so no stale characters remain.
            self.stream.write("\r" + line.ljust(self._bar_width))
            self._bar_width = len(line)
            self._bar_open = True

    def flush(self) -> None:
        """Flush the stream."""
        self.stream.flush()

    def close(self, status: str) -> None:
        """End the bar's line and say how the run ended."""
        self._print(f"run {self.run_info.name} {status} at update {self._last_step}")
        self.flush()
