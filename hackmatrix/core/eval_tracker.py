"""The eval history of one seed: its best value, the evals since it improved, and why to stop.

Plain data, written into every checkpoint's header (`to_dict`) and read back on resume
(`from_dict`), so a resumed run ranks, counts patience and stops exactly as an uninterrupted one.
"""

import dataclasses
import math


@dataclasses.dataclass
class EvalTracker:
    """Ranks the evals of one seed by `metric` (mode "max": higher is better, "min": lower)."""

    metric: str
    mode: str = "max"
    best: float | None = None
    best_update: int | None = None
    since_best: int = 0  # evals since the best one
    history: list = dataclasses.field(default_factory=list)  # [update, value] per eval

    def better(self, value: float) -> bool:
        """Whether `value` improves on the best so far (a non-finite value never does)."""
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        return value > self.best if self.mode == "max" else value < self.best

    def record(self, update: int, value: float) -> bool:
        """Add one eval's value; return True when it is the new best."""
        self.history.append([int(update), float(value)])
        if self.better(value):
            self.best, self.best_update, self.since_best = float(value), int(update), 0
            return True
        self.since_best += 1
        return False

    def reached(self, target: float | None) -> bool:
        """Whether the last eval reached the target (off when target is None)."""
        if target is None or not self.history:
            return False
        value = self.history[-1][1]
        return value >= target if self.mode == "max" else value <= target

    def stop_reason(self, target: float | None, patience: int) -> str | None:
        """Why this seed should stop after its last eval (target, then patience), or None."""
        name = f"eval/{self.metric}"
        if self.reached(target):
            return f"{name} = {self.history[-1][1]:.4g} reached eval.target = {target:g}"
        if patience and self.since_best >= patience:
            best = "none" if self.best is None else f"{self.best:.4g} at update {self.best_update}"
            return f"{name} did not improve in {patience} evals (eval.patience); best {best}"
        return None

    def to_dict(self) -> dict:
        """The JSON form stored in checkpoint headers."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict, metric: str, mode: str) -> "EvalTracker":
        """Rebuild a tracker from `to_dict`; a history ranked by another metric starts over."""
        if not data or data.get("metric") != metric or data.get("mode") != mode:
            return cls(metric, mode)
        return cls(**data)
