"""Training-health checks: PPO statistics within bounds and an episode-length/return stall detector.

Every evaluated update publishes `health/<check>_ok` (1.0 healthy, 0.0 failing) for each check whose
inputs are present, and `health/all_ok` over those. A non-finite input fails its check. A check
whose input is absent on an update (no `train/approx_kl`, no finished episode for the stall window,
a window not yet full) is not evaluated on it and counts neither way in the summary.
"""

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from hackmatrix.options import INT32_MAX, Checked, setting

HEALTH_PREFIX = "health/"


@dataclass(frozen=True)
class HealthConfig(Checked):
    """Thresholds of the health checks (config.yaml `metrics.health`), checked on construction.

    The stall detector compares the older half of its window of updates with the newer half: the
    mean episode length "rises" when the newer half exceeds the older by more than
    stall_length_rise of the older (floor 1 step); the mean return is "flat" when the halves
    differ by at most stall_return_tolerance of the older's absolute return (floor 1.0, so
    returns near 0 compare absolutely). Stalled = length rises while return stays flat.
    """

    SECTION = "metrics.health"
    approx_kl_max: float = setting(0.06, "healthy while train/approx_kl < this",
                                   low=0.0, open_low=True)
    clip_frac_max: float = setting(0.30, "healthy while train/clip_frac < this",
                                   low=0.0, open_low=True, high=1.0)
    entropy_min: float = setting(1.0, "healthy while train/entropy > this", low=0.0)
    stall_window: int = setting(20, "updates with finished episodes the stall detector compares",
                                low=2, high=1_000_000)
    stall_length_rise: float = setting(0.10, "a longer-episode rise beyond this fraction...",
                                       low=0.0)
    stall_return_tolerance: float = setting(0.02, "...while the return moves at most this fraction",
                                            low=0.0)
    stop_when_unhealthy: bool = setting(False, "make MetricsPipeline.should_stop true once a "
                                               "check fails stop_patience updates in a row")
    stop_patience: int = setting(3, "consecutive failing updates of one check before stopping",
                                 low=1, high=INT32_MAX)


@dataclass
class _CheckRecord:
    """Running statistics of one check over the run."""

    evaluated: int = 0
    healthy: int = 0
    worst: float | None = None
    first_failed: int | None = None
    failing: bool = False
    failing_streak: int = 0


def _worse(a: float | None, b: float, higher_is_worse: bool) -> float:
    """The worse of two values; NaN is the worst of all."""
    if a is None or math.isnan(b):
        return b
    if math.isnan(a):
        return a
    return max(a, b) if higher_is_worse else min(a, b)


class HealthMonitor:
    """Evaluates the checks update by update and keeps the run's health record."""

    CHECKS = ("approx_kl", "clip_frac", "entropy", "stall")

    def __init__(self, config: HealthConfig | None = None):
        config = config or HealthConfig()
        self.config = config
        self._records = {name: _CheckRecord() for name in self.CHECKS}
        self._episodes: deque[tuple[float, float]] = deque(maxlen=config.stall_window)

    def _stall_value(self, metrics: Mapping[str, float]) -> float | None:
        """Relative length rise of the window while the return is flat, else 0 (None: no data)."""
        length = metrics.get("episode/length_mean")
        ret = metrics.get("episode/return_mean")
        if length is not None and ret is not None:
            self._episodes.append((length, ret))
        if length is None or len(self._episodes) < self.config.stall_window:
            return None
        half = self.config.stall_window // 2
        window = list(self._episodes)
        old, new = window[:half], window[-half:]
        old_len = sum(item[0] for item in old) / half
        new_len = sum(item[0] for item in new) / half
        old_ret = sum(item[1] for item in old) / half
        new_ret = sum(item[1] for item in new) / half
        rise = (new_len - old_len) / max(abs(old_len), 1.0)
        tolerance = self.config.stall_return_tolerance * max(abs(old_ret), 1.0)
        flat = abs(new_ret - old_ret) <= tolerance
        return rise if flat else 0.0

    def _bounds(self) -> dict[str, tuple[str, float, bool]]:
        """Check name -> (comparison text, limit, whether a higher value is worse)."""
        c = self.config
        return {
            "approx_kl": ("<", c.approx_kl_max, True),
            "clip_frac": ("<", c.clip_frac_max, True),
            "entropy": (">", c.entropy_min, False),
            "stall": ("<=", c.stall_length_rise, True),
        }

    def update(self, step: int, metrics: Mapping[str, float]) -> tuple[dict[str, float], list[str]]:
        """Evaluate one update: returns its `health/*` values and the transition messages."""
        values = {
            "approx_kl": metrics.get("train/approx_kl"),
            "clip_frac": metrics.get("train/clip_frac"),
            "entropy": metrics.get("train/entropy"),
            "stall": self._stall_value(metrics),
        }
        health: dict[str, float] = {}
        messages: list[str] = []
        for name, (op, limit, higher_is_worse) in self._bounds().items():
            value = values[name]
            if value is None:
                continue
            ok = value < limit if op == "<" else value > limit if op == ">" else value <= limit
            record = self._records[name]
            record.evaluated += 1
            record.healthy += int(ok)
            record.worst = _worse(record.worst, value, higher_is_worse)
            record.failing_streak = 0 if ok else record.failing_streak + 1
            if not ok and record.first_failed is None:
                record.first_failed = step
            if ok == record.failing:
                what = "recovered" if ok else "failing"
                messages.append(
                    f"health check {name} {what} at update {step}: {name} = {value:.4g} "
                    f"(healthy when {op} {limit:g})"
                )
            record.failing = not ok
            health[f"{HEALTH_PREFIX}{name}_ok"] = 1.0 if ok else 0.0
        if health:
            health[f"{HEALTH_PREFIX}all_ok"] = float(all(v == 1.0 for v in health.values()))
        return health, messages

    @property
    def unhealthy_for_patience(self) -> bool:
        """True once some check has failed `stop_patience` evaluated updates in a row."""
        return any(r.failing_streak >= self.config.stop_patience for r in self._records.values())

    def summary(self) -> dict[str, dict]:
        """Per check: updates evaluated, fraction healthy, worst value, first failing update."""
        return {
            name: {
                "updates": record.evaluated,
                "healthy_fraction": record.healthy / record.evaluated if record.evaluated else None,
                "worst": record.worst,
                "first_failed_update": record.first_failed,
            }
            for name, record in self._records.items()
        }

    def format_summary(self) -> str:
        """The summary as a short table for the end of the run."""
        lines = ["health summary (fraction of updates healthy, worst value, first failing update):"]
        for name, entry in self.summary().items():
            if not entry["updates"]:
                lines.append(f"  {name:<10} not evaluated")
                continue
            first = entry["first_failed_update"]
            lines.append(
                f"  {name:<10} {entry['healthy_fraction']:7.1%} healthy of {entry['updates']:>6} "
                f"updates, worst {entry['worst']:.4g}, "
                + ("never failed" if first is None else f"first failed at update {first}")
            )
        return "\n".join(lines)
