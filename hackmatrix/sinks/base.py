"""The sink interface that every metrics backend implements, and the run metadata it opens with.

A sink is opened by constructing it: `SinkClass(run_info, **options)`. After that the metrics
pipeline calls, always from one background thread per sink and in this order:
`log_metrics(metrics, step)` / `log_artifact(path)` / `log_video(key, path, step)` /
`log_export(path, name)` any number of times, `flush()`, `close(status)`. A video of step k may
arrive after the metrics of later steps (it is rendered in the background).
`metrics` maps published names (e.g. "train/approx_kl") to Python floats; `step` is the 1-based PPO
update number, strictly increasing over the run, continuing after `run_info.start_step` on resume.

Non-finite values: the class attribute NONFINITE is the sink's documented policy, applied by the
pipeline before `log_metrics` (the pipeline also reports every key that turns non-finite):
"keep" hands NaN/inf to the sink, which stores them as its backend does; "drop" removes those keys
from that sink's point.
"""

import abc
import importlib
import importlib.util
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from hackmatrix.errors import ConfigError, SinkError

STATUSES = ("finished", "interrupted", "failed")


@dataclass(frozen=True)
class RunInfo:
    """What a sink opens with.

    name: human-readable run name; run_id: the run's stable id (also across resumes);
    directory: the run directory (sinks keep their files and `sinks_state.json` there);
    config: the flattened config ({"ppo.lr": 0.00025, ...}); git_commit: the commit, if known;
    resumed: continue the run already recorded in `directory` rather than start one;
    start_step: the last update already done (0 for a new run; the first step logged is
    start_step + 1); total_updates: the planned number of updates, if known (progress bar).
    group, group_id, seed: set for one seed of a multi-seed run (`run.seeds`): the group's name
    and stable id (the run directory's) and this run's seed; sinks that group runs (MLflow
    parent/child runs, wandb groups) use them. None for an ordinary run.
    """

    name: str
    run_id: str
    directory: Path
    config: Mapping[str, Any] = field(default_factory=dict)
    git_commit: str | None = None
    resumed: bool = False
    start_step: int = 0
    total_updates: int | None = None
    group: str | None = None
    group_id: str | None = None
    seed: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "directory", Path(self.directory))
        if self.start_step < 0:
            raise ValueError(f"RunInfo.start_step must be >= 0, got {self.start_step}")


@dataclass(frozen=True)
class Option:
    """One option of a sink: accepted types, default value, and a one-line description."""

    types: tuple[type, ...]
    default: Any
    doc: str
    choices: tuple | None = None


def _type_names(types: tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
             dict: "a mapping", list: "a list", type(None): "null"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def _accepts(types: tuple[type, ...], value: Any) -> bool:
    """Type test where int counts as float but bool counts as neither."""
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


def module_available(module: str) -> bool:
    """Whether `module` can be imported (without importing it when it is not loaded yet)."""
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


class Sink(abc.ABC):
    """Base class of every metrics sink (built-in or from another package's entry point)."""

    NAME: ClassVar[str] = "sink"
    OPTIONS: ClassVar[Mapping[str, Option]] = {}
    REQUIRES: ClassVar[tuple[str, ...]] = ()
    EXTRA: ClassVar[str | None] = None
    NONFINITE: ClassVar[str] = "keep"

    def __init__(self, run_info: RunInfo, **options: Any):
        self.check_requirements()
        self.run_info = run_info
        self.options = self.validate_options(options)
        self.name = self.NAME

    @classmethod
    def describe_output(cls, options: Mapping[str, Any], run_dir: Path,
                        multi_seed: bool) -> str | None:
        """One line of the run's closing message: where this sink wrote and how to open it."""
        return None

    @classmethod
    def check_requirements(cls) -> None:
        """Raise SinkError naming the pip command when a module this sink needs is missing."""
        missing = [module for module in cls.REQUIRES if not module_available(module)]
        if missing:
            fix = (f"pip install 'hackmatrix[{cls.EXTRA}]'" if cls.EXTRA
                   else f"pip install {' '.join(missing)}")
            raise SinkError(
                f"sink '{cls.NAME}' needs the Python package(s) {', '.join(missing)}, which are "
                f"not installed; install them with: {fix}"
            )

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """Return the options with defaults filled in; raise ConfigError naming a bad one."""
        unknown = sorted(set(options) - set(cls.OPTIONS))
        if unknown:
            allowed = ", ".join(sorted(cls.OPTIONS)) or "(none)"
            raise ConfigError(
                f"sink '{cls.NAME}': unknown option(s) {', '.join(unknown)}; allowed options: "
                f"{allowed}"
            )
        resolved = {}
        for name, option in cls.OPTIONS.items():
            value = options.get(name, option.default)
            if name in options and not _accepts(option.types, value):
                raise ConfigError(
                    f"sink '{cls.NAME}': option {name} must be {_type_names(option.types)}, "
                    f"got {value!r}"
                )
            if option.choices is not None and value not in option.choices:
                raise ConfigError(
                    f"sink '{cls.NAME}': option {name} must be one of "
                    f"{', '.join(map(str, option.choices))}, got {value!r}"
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"sink '{cls.NAME}': option {name} must be finite")
            resolved[name] = value
        cls.check_options(resolved)
        return resolved

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """Hook for checks across options or of value ranges; raise ConfigError on a bad one."""

    @abc.abstractmethod
    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """Record one update's scalars at `step`."""

    def log_artifact(self, path: str | Path) -> None:
        """Record a file or directory (a checkpoint); sinks without artifact storage ignore it."""

    def log_video(self, key: str, path: Path, step: int) -> None:
        """Record an animated GIF (an eval episode) as `key` at `step`; sinks without media ignore it."""

    def log_export(self, path: Path, name: str) -> None:
        """Record an exported policy directory (`name`: final or best); the default ignores it."""

    def flush(self) -> None:
        """Make everything logged so far durable."""

    def close(self, status: str) -> None:
        """Flush and end the run with status "finished", "interrupted" or "failed"."""
        self.flush()
