"""Host-side guards: strictly increasing steps and the reporting of non-finite values."""

import math
import operator
from collections.abc import Mapping

from hackmatrix.errors import HackmatrixError


class StepOrderError(HackmatrixError, ValueError):
    """A step that is not strictly greater than the previous one (or the resume point)."""


class StepGuard:
    """Accepts only integer steps strictly greater than the last one accepted."""

    def __init__(self, start_step: int = 0):
        self.last = operator.index(start_step)

    def check(self, step) -> int:
        """Return `step` as an int if it follows the last accepted step; raise otherwise."""
        if isinstance(step, bool):
            raise StepOrderError(f"step must be an integer update number, got {step!r}")
        try:
            step = operator.index(step)
        except TypeError:
            raise StepOrderError(f"step must be an integer update number, got {step!r}") from None
        if step <= self.last:
            raise StepOrderError(
                f"step {step} does not follow step {self.last}: steps must strictly increase "
                "(a resumed run must start after its checkpoint's update)"
            )
        self.last = step
        return step


class NonFiniteTracker:
    """Finds NaN/inf values; tells the first occurrence of each key and counts all of them."""

    def __init__(self):
        self.counts: dict[str, int] = {}
        self.first_step: dict[str, int] = {}

    def scan(self, step: int, metrics: Mapping[str, float]) -> list[str]:
        """Record the non-finite keys of one update; returns those seen for the first time."""
        new = []
        for key, value in metrics.items():
            if math.isfinite(value):
                continue
            if key not in self.counts:
                self.counts[key] = 0
                self.first_step[key] = step
                new.append(key)
            self.counts[key] += 1
        return new

    def format_summary(self) -> str:
        """One line per key that was ever non-finite (empty when none was)."""
        return "\n".join(
            f"  {key}: {count} non-finite value(s), first at update {self.first_step[key]}"
            for key, count in sorted(self.counts.items())
        )
