"""A sweep's record, sweep.json: its spec, base config, points and batches, enough to resume it.

It is written when the sweep starts, before each batch trains and when each batch ends, so a sweep
stopped at any moment (Ctrl-C, SIGTERM, even SIGKILL) resumes with `hackmatrix sweep --resume
DIR`: finished batches are kept, the batch that was training resumes from its newest checkpoint
(or trains anew when it had none yet), and an Optuna sweep reloads its study and goes on asking.
"""

import dataclasses
import json
import os
import uuid
from pathlib import Path

from hackmatrix.core.checkpoint import list_checkpoints, write_atomic
from hackmatrix.core.config import (
    all_keys,
    config_from_dict,
    flatten,
    seed_list,
    to_dict,
)
from hackmatrix.core.config import replace as replace_config
from hackmatrix.core.run_dir import CHECKPOINT_DIR
from hackmatrix.errors import CheckpointError, ConfigError
from hackmatrix.sweep.points import point_config
from hackmatrix.sweep.spec import Dimension, Score, SweepSpec

SWEEP_FILE = "sweep.json"
BATCH_PREFIX = "batch-"
# A batch that ended either way trained every run to its end (an eval rule stops a batch only
# once every run in it met one), so the sweep goes on.
COMPLETE = ("finished", "early_stopped")


@dataclasses.dataclass
class SweepState:
    """What a sweep has done so far; `save` writes it to sweep.json."""

    sweep_dir: Path
    spec: SweepSpec
    base: object  # the base Config every point starts from
    group_id: str  # the sinks' group id of every batch (stable across resumes)
    points: list = dataclasses.field(default_factory=list)  # {dotted key: value} of each point
    # One entry per batch: {"points": [point indices], "dir": "batch-NNN" or None until it
    # returned, "status": how its training ended (RunResult.status) or None while it runs}.
    batches: list = dataclasses.field(default_factory=list)

    @property
    def seeds(self) -> list:
        """The seeds every point trains with."""
        return list(seed_list(replace_config(self.base, run__seeds=self.spec.seeds)))

    def configs(self, indices) -> dict:
        """Return {point index: its validated config} of the given points."""
        return {i: point_config(self.base, self.points[i]) for i in indices}

    def add_batch(self, points: list, **extra) -> int:
        """Record a new batch of points (appended to the sweep's points); return its index.

        `extra` is kept with the batch (an Optuna sweep's trial numbers).
        """
        start = len(self.points)
        self.points.extend(points)
        self.batches.append({"points": list(range(start, len(self.points))), "dir": None,
                             "status": None, **extra})
        self.save()
        return len(self.batches) - 1

    def progress(self) -> str:
        """One line on what the sweep has done: batches trained to their end and points asked."""
        done = sum(b["status"] in COMPLETE for b in self.batches)
        return (f"{done} of {len(self.batches)} batches done, {len(self.points)} points so "
                f"far ({self.spec.method}, {self.spec.seeds} seeds per point)")

    def batch_dir(self, index: int) -> Path | None:
        """The run directory of batch `index`, when known.

        A batch killed before it returned has no recorded directory: it is the newest
        batch-NNN/ directory that no other batch claims (batches train one after another).
        """
        name = self.batches[index]["dir"]
        if name is not None:
            return self.sweep_dir / name
        claimed = {b["dir"] for b in self.batches}
        unclaimed = sorted(p for p in self.sweep_dir.glob(BATCH_PREFIX + "*")
                           if p.is_dir() and p.name not in claimed)
        return unclaimed[-1] if unclaimed else None

    def resumable_dir(self, index: int) -> Path | None:
        """The run directory batch `index` resumes from: one holding a checkpoint, else None."""
        path = self.batch_dir(index)
        if path is None or not list_checkpoints(path / CHECKPOINT_DIR):
            return None
        return path

    def save(self) -> None:
        """Write sweep.json (atomically: a kill leaves the previous or the new record)."""
        spec = dataclasses.asdict(self.spec)
        body = {"method": self.spec.method, "seeds": self.spec.seeds, "score": spec["score"],
                "dimensions": spec["dimensions"], "points": self.points,
                "batches": self.batches, "spec": spec, "group_id": self.group_id,
                "base": {"config": to_dict(self.base), "explicit": sorted(self.base.explicit)}}
        write_atomic(self.sweep_dir / SWEEP_FILE, json.dumps(body, indent=2).encode())


def new_sweep_dir(config) -> Path:
    """Create and return runs/<run.name>-sweep-NNN (the next free number)."""
    root = Path(config.run.runs_dir)
    root.mkdir(parents=True, exist_ok=True)
    index = 1
    while True:
        path = root / f"{config.run.name}-sweep-{index:03d}"
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            index += 1


def new_sweep(base, spec) -> SweepState:
    """Create the sweep directory of a new sweep and its first sweep.json."""
    state = SweepState(new_sweep_dir(base), spec, base, uuid.uuid4().hex)
    state.save()
    return state


def spec_from_dict(body: dict) -> SweepSpec:
    """Rebuild a SweepSpec from its sweep.json form."""
    dimensions = tuple(Dimension(**{**d, "values": tuple(d["values"])})
                       for d in body["dimensions"])
    return SweepSpec(**{**body, "dimensions": dimensions, "score": Score(**body["score"])})


def load_sweep(sweep_dir, overrides=()) -> SweepState:
    """Read the sweep.json of `sweep_dir` for `--resume`, with resumable config overrides."""
    from hackmatrix.core.resume import apply_resumable_overrides

    sweep_dir = Path(sweep_dir)
    path = sweep_dir / SWEEP_FILE
    if not path.is_file():
        raise ConfigError(f"--resume {sweep_dir}: not a sweep directory (no {SWEEP_FILE}); give "
                          f"the directory `hackmatrix sweep` printed, e.g. runs/ppo-sweep-001")
    try:
        body = json.loads(path.read_text())
        spec = spec_from_dict(body["spec"])
        flat = flatten(body["base"]["config"], all_keys())
        base = config_from_dict(flat, frozenset(body["base"]["explicit"]))
        state = SweepState(sweep_dir, spec, base, body["group_id"], list(body["points"]),
                           list(body["batches"]))
    except (OSError, ValueError, KeyError, TypeError, ConfigError) as err:
        raise CheckpointError(f"'{path}' cannot be resumed: {type(err).__name__}: {err} (it was "
                              f"written by another version, or damaged)") from None
    state.base = apply_resumable_overrides(state.base, overrides)
    return state
