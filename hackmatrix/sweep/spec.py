"""The sweep spec: which PPO hyperparameters vary, how they are drawn, and how points are scored.

Read from the `sweep:` section of a config file (or of a file holding only that section) and
checked before anything compiles. Only the traced keys (`hackmatrix.core.update.TRACED`) may vary:
every point of a batch trains in one program, so a key that changes array shapes (num_envs,
num_steps, network sizes, ...) is refused; sweep such keys with one sweep per value.
"""

import math
from dataclasses import dataclass

from hackmatrix.core.config import all_keys
from hackmatrix.core.update import TRACED
from hackmatrix.errors import ConfigError

METHODS = ("grid", "random", "optuna")
MODES = ("max", "min")
VARIABLE = tuple(f"ppo.{name}" for name in TRACED)
SPEC_KEYS = ("method", "seeds", "points", "batch", "seed", "score", "params")
SCORE_KEYS = ("metric", "last", "mode")


@dataclass(frozen=True)
class Score:
    """How a point is ranked: the mean of `metric` over its last `last` updates, over seeds."""

    metric: str = "episode/return_mean"
    last: int = 10
    mode: str = "max"  # "max": higher is better


@dataclass(frozen=True)
class Dimension:
    """One varying key: a list of values (grid) or a range (random, optuna)."""

    key: str  # dotted config key, e.g. "ppo.learning_rate"
    values: tuple = ()  # grid
    low: float = 0.0  # random / optuna
    high: float = 0.0
    log: bool = False  # draw log-uniformly


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: method, dimensions, seeds per point, points and the score."""

    method: str
    dimensions: tuple  # of Dimension
    seeds: int = 1  # seeds per point: run.seed, run.seed+1, ...
    points: int = 8  # random / optuna: how many points in all
    batch: int = 8  # optuna: points trained together per ask/tell round
    seed: int = 0  # random / optuna: the sampler's seed
    score: Score = Score()


def _int_at_least(section: dict, key: str, default: int, low: int) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"sweep key 'sweep.{key}' must be an integer >= {low}, got {value!r}")
    return value


def _number(key: str, what: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"sweep key 'sweep.params.{key}' {what} must be a finite number, "
                          f"got {value!r}")
    return float(value)


def _dimension(key: str, body, method: str) -> Dimension:
    """Check one entry of sweep.params: a known, traced key with values fitting the method."""
    if key not in all_keys():
        raise ConfigError(f"sweep key 'sweep.params.{key}': unknown config key; vary one of "
                          f"{', '.join(VARIABLE)}")
    if key not in VARIABLE:
        raise ConfigError(f"sweep key 'sweep.params.{key}' changes array shapes or the program "
                          f"and cannot vary within a sweep; vary one of {', '.join(VARIABLE)}, "
                          f"and run one sweep per value of '{key}' (set it in the config)")
    if method == "grid":
        if not isinstance(body, list) or not body:
            raise ConfigError(f"sweep key 'sweep.params.{key}' must be a non-empty list of "
                              f"values for method 'grid', got {body!r}")
        return Dimension(key, values=tuple(_number(key, "value", v) for v in body))
    if not isinstance(body, dict) or set(body) - {"low", "high", "log"} or not (
            {"low", "high"} <= set(body)):
        raise ConfigError(f"sweep key 'sweep.params.{key}' must be a range "
                          f"{{low: L, high: H, log: true|false}} for method '{method}', "
                          f"got {body!r}")
    low, high = _number(key, "low", body["low"]), _number(key, "high", body["high"])
    if not low < high:
        raise ConfigError(f"sweep key 'sweep.params.{key}' is an empty range: low {low} must "
                          f"be below high {high}")
    # Log-uniform where it fits: positive ranges spanning a factor of 10 or more.
    log = body.get("log", low > 0 and high / low >= 10)
    if not isinstance(log, bool) or (log and low <= 0):
        raise ConfigError(f"sweep key 'sweep.params.{key}.log' must be true (only for a range "
                          f"with low > 0) or false, got {log!r}")
    return Dimension(key, low=low, high=high, log=log)


def _score(body) -> Score:
    if body is None:
        return Score()
    if not isinstance(body, dict) or set(body) - set(SCORE_KEYS):
        raise ConfigError(f"sweep key 'sweep.score' must be a mapping of "
                          f"{', '.join(SCORE_KEYS)}, got {body!r}")
    metric = body.get("metric", Score.metric)
    mode = body.get("mode", Score.mode)
    if not isinstance(metric, str) or "/" not in metric:
        raise ConfigError(f"sweep key 'sweep.score.metric' must be a published metric name "
                          f"such as 'episode/return_mean', got {metric!r}")
    if mode not in MODES:
        raise ConfigError(f"sweep key 'sweep.score.mode' must be one of {', '.join(MODES)}, "
                          f"got {mode!r}")
    return Score(metric, _int_at_least(body, "last", Score.last, 1), mode)


def parse_sweep(section) -> SweepSpec:
    """Return the validated SweepSpec of a `sweep:` mapping; ConfigError names what is wrong."""
    if not isinstance(section, dict):
        raise ConfigError(f"the 'sweep' section must be a mapping, got {section!r}")
    unknown = sorted(set(section) - set(SPEC_KEYS))
    if unknown:
        raise ConfigError(f"unknown sweep key 'sweep.{unknown[0]}'; allowed: "
                          f"{', '.join(SPEC_KEYS)}")
    method = section.get("method")
    if method not in METHODS:
        raise ConfigError(f"sweep key 'sweep.method' must be one of {', '.join(METHODS)}, "
                          f"got {method!r}")
    params = section.get("params")
    if not isinstance(params, dict) or not params:
        raise ConfigError("sweep key 'sweep.params' must map at least one key to vary "
                          "(e.g. ppo.learning_rate) to its values or range")
    dimensions = tuple(_dimension(str(key), body, method) for key, body in params.items())
    points = _int_at_least(section, "points", SweepSpec.points, 1)
    return SweepSpec(method=method, dimensions=dimensions,
                     seeds=_int_at_least(section, "seeds", 1, 1), points=points,
                     batch=_int_at_least(section, "batch", points, 1),
                     seed=_int_at_least(section, "seed", 0, 0), score=_score(section.get("score")))
