"""The typed, validated, immutable training configuration and its loader (config.yaml + overrides).

A `Config` is built only by `load_config` / `config_from_dict`, which check every key, type and
range before anything is compiled. Derived values (batch size, minibatch size, number of updates)
are functions of the config (`batch_size`, `minibatch_size`, `num_updates`), never stored in it.
`Config.explicit` records the dotted keys the user chose (see `load_config`) so that
`auto_scale_for_batch_size` changes only the others.
"""

import dataclasses
import difflib
import math
from dataclasses import dataclass, field

import yaml

from hackmatrix.core.config_file import read_config_file, yaml_problem
from hackmatrix.env.constants import NUM_PROGRAMS, NUM_STAGES
from hackmatrix.env.curriculum import Curriculum
from hackmatrix.errors import ConfigError
from hackmatrix.metrics.health import HealthConfig


@dataclass(frozen=True)
class EnvConfig:
    """Environment section."""

    num_envs: int = 256
    max_steps_in_episode: int = 5000


@dataclass(frozen=True)
class PPOConfig:
    """PPO section (the reference shape of `auto_scale_for_batch_size`)."""

    num_steps: int = 128
    total_timesteps: int = 1_572_864
    update_epochs: int = 4
    num_minibatches: int = 4
    learning_rate: float = 1.5e-3
    anneal_lr: bool = True
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    clip_value_loss: bool = True
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    normalize_advantages: bool = True
    auto_scale: bool = True


@dataclass(frozen=True)
class NetworkConfig:
    """Network section."""

    kind: str = "mlp"
    hidden_sizes: tuple = (256, 256)
    activation: str = "tanh"
    conv_channels: tuple = (32, 32)


@dataclass(frozen=True)
class RunConfig:
    """Run section."""

    seed: int = 0
    name: str = "ppo"
    runs_dir: str = "runs"
    updates_per_chunk: int = 4
    distributed: bool = False
    compilation_cache: str = "~/.cache/hackmatrix/xla"
    sinks_failure: str = "fail"
    # An int N (seeds seed..seed+N-1) or a tuple of distinct ints; see `seed_list`.
    seeds: int | tuple = 1


@dataclass(frozen=True)
class CheckpointConfig:
    """Checkpoint section."""

    every_updates: int = 16
    every_minutes: float = 10.0
    keep_last: int = 3


# The eval summary scalars (hackmatrix.analysis.evaluate.summarize) that eval.metric may name.
EVAL_METRICS = ("win_rate", "final_stage_mean", "return_mean", "length_mean", "truncated_rate")


@dataclass(frozen=True)
class EvalConfig:
    """Eval section: evaluation during training, the best checkpoint, early stopping, GIFs."""

    every_updates: int = 0
    episodes: int = 32
    seed: int = 1_000_003
    max_steps: int = 1000
    sampled: bool = False
    metric: str = "final_stage_mean"
    mode: str = "max"
    target: float | None = None
    patience: int = 0
    gif_every: int = 0
    gif_max_steps: int = 300


DEFAULT_SINKS = ("console", "jsonl", "tensorboard", "mlflow")


@dataclass(frozen=True)
class Config:
    """The whole training configuration; build it with `load_config`."""

    env: EnvConfig = field(default_factory=EnvConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    run: RunConfig = field(default_factory=RunConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    curriculum: Curriculum = field(default_factory=Curriculum)
    evaluation: EvalConfig = field(default_factory=EvalConfig)
    # A uniform policy over this game's valid actions has a masked entropy of only ~0.8 nats
    # (few actions are valid in most states), so the generic entropy floor of 1.0 is lowered.
    health: HealthConfig = field(default_factory=lambda: HealthConfig(entropy_min=0.2))
    sinks: tuple = DEFAULT_SINKS
    # Dotted keys the user set (not part of the resolved config written to a run directory).
    explicit: frozenset = frozenset()
    # (dotted key, old value, new value) for each change made by auto_scale_for_batch_size.
    autoscaled: tuple = ()


# Dotted prefix of each section -> (attribute of Config, section class).
SECTIONS = {
    "env": ("env", EnvConfig), "ppo": ("ppo", PPOConfig), "network": ("network", NetworkConfig),
    "run": ("run", RunConfig), "checkpoint": ("checkpoint", CheckpointConfig),
    "curriculum": ("curriculum", Curriculum),
    "eval": ("evaluation", EvalConfig), "metrics.health": ("health", HealthConfig),
}
ACTIVATIONS = ("tanh", "relu")
NETWORK_KINDS = ("mlp", "grid")


def _positive(x):
    return x > 0


def _non_negative(x):
    return x >= 0


def _unit_open(x):
    return 0.0 < x <= 1.0


# dotted key -> (predicate, what is allowed); keys absent here accept any value of their type.
RANGES = {
    "env.num_envs": (_positive, "an integer >= 1"),
    "env.max_steps_in_episode": (_positive, "an integer >= 1"),
    "ppo.num_steps": (_positive, "an integer >= 1"),
    "ppo.total_timesteps": (_positive, "an integer >= 1"),
    "ppo.update_epochs": (lambda x: 1 <= x <= 10_000, "an integer in [1, 10000]"),
    "ppo.num_minibatches": (_positive, "an integer >= 1"),
    "ppo.learning_rate": (_positive, "a float > 0"),
    "ppo.gamma": (_unit_open, "a float in (0, 1]"),
    "ppo.gae_lambda": (lambda x: 0.0 <= x <= 1.0, "a float in [0, 1]"),
    "ppo.clip_eps": (_positive, "a float > 0"),
    "ppo.ent_coef": (_non_negative, "a float >= 0"),
    "ppo.vf_coef": (_non_negative, "a float >= 0"),
    "ppo.max_grad_norm": (_positive, "a float > 0"),
    "network.kind": (lambda x: x in NETWORK_KINDS, f"one of {list(NETWORK_KINDS)}"),
    "network.activation": (lambda x: x in ACTIVATIONS, f"one of {list(ACTIVATIONS)}"),
    "network.hidden_sizes": (lambda x: len(x) >= 1 and all(v > 0 for v in x),
                             "a non-empty list of positive integers"),
    "network.conv_channels": (lambda x: len(x) >= 1 and all(v > 0 for v in x),
                              "a non-empty list of positive integers"),
    "run.name": (lambda x: bool(x) and all(c.isalnum() or c in "-_." for c in x),
                 "a non-empty name of letters, digits, '-', '_' and '.'"),
    "run.runs_dir": (bool, "a non-empty path"),
    "run.seed": (lambda x: -(2**63) <= x < 2**63, "an integer that fits in 64 bits"),
    "run.updates_per_chunk": (_positive, "an integer >= 1"),
    "run.sinks_failure": (lambda x: x in ("fail", "warn"), "one of ['fail', 'warn']"),
    "checkpoint.every_updates": (_non_negative, "an integer >= 0 (0 = never by count)"),
    "checkpoint.every_minutes": (_non_negative, "a float >= 0 (0 = never by time)"),
    "checkpoint.keep_last": (_positive, "an integer >= 1"),
    "curriculum.share": (lambda x: 0.0 <= x <= 1.0, "a float in [0, 1] (0: off)"),
    "curriculum.max_stage": (lambda x: 1 <= x <= NUM_STAGES, f"an integer in [1, {NUM_STAGES}]"),
    "curriculum.max_programs": (lambda x: 0 <= x <= NUM_PROGRAMS,
                                f"an integer in [0, {NUM_PROGRAMS}]"),
    "curriculum.max_resources": (lambda x: 0 <= x <= 1000, "an integer in [0, 1000]"),
    "eval.every_updates": (_non_negative, "an integer >= 0 (0 = no eval during training)"),
    "eval.episodes": (_positive, "an integer >= 1"),
    "eval.seed": (lambda x: -(2**63) <= x < 2**63, "an integer that fits in 64 bits"),
    "eval.max_steps": (_positive, "an integer >= 1"),
    "eval.metric": (lambda x: x in EVAL_METRICS, f"one of {list(EVAL_METRICS)}"),
    "eval.mode": (lambda x: x in ("max", "min"), "one of ['max', 'min'] (is higher better?)"),
    "eval.target": (lambda x: x is None or math.isfinite(x), "a finite number or null (off)"),
    "eval.patience": (_non_negative, "an integer >= 0 (0 = off)"),
    "eval.gif_every": (_non_negative, "an integer >= 0 (0 = no GIFs)"),
    "eval.gif_max_steps": (_positive, "an integer >= 1"),
    "metrics.health.approx_kl_max": (_positive, "a float > 0"),
    "metrics.health.clip_frac_max": (_unit_open, "a float in (0, 1]"),
    "metrics.health.entropy_min": (_non_negative, "a float >= 0"),
    "metrics.health.stall_window": (lambda x: x >= 2, "an integer >= 2"),
    "metrics.health.stall_length_rise": (_non_negative, "a float >= 0"),
    "metrics.health.stall_return_tolerance": (_non_negative, "a float >= 0"),
    "metrics.health.stop_patience": (_positive, "an integer >= 1"),
}


def all_keys() -> list:
    """Return every valid dotted key of the configuration."""
    keys = [f"{s}.{f.name}" for s, (_, cls) in SECTIONS.items() for f in dataclasses.fields(cls)]
    return keys + ["sinks"]


def _shown(key) -> str:
    """A user's key as one printable line (control characters escaped)."""
    text = str(key)
    return text if text.isprintable() else repr(text)[1:-1]


def _unknown(key, valid):
    close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(valid)}"
    return ConfigError(f"unknown config key '{_shown(key)}'{hint}")


def _coerce(key, value, default):
    """Return `value` converted to the type of `default`, or raise a ConfigError naming both."""
    def bad(kind):
        return ConfigError(f"config key '{key}' must be {kind}, got {value!r}")

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise bad("an integer")
        try:
            number = float(value)
        except ValueError:
            raise bad("an integer") from None
        if not math.isfinite(number) or number != int(number):
            raise bad("an integer")
        return int(number)
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise bad("a number")
        try:
            number = float(value)  # YAML 1.1 reads 1e-4 (no dot) as a string
        except ValueError:
            raise bad("a number") from None
        if not math.isfinite(number):
            raise bad("a finite number")
        return number
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple):
            raise bad("a list of integers")
        return tuple(_coerce(f"{key}[{i}]", v, 0) for i, v in enumerate(value))
    if not isinstance(value, str):
        raise bad("a string")
    return value


# Keys whose default is None (off): a number turns them on.
OPTIONAL_NUMBERS = ("eval.target",)

SEEDS_ALLOWED = "an integer >= 1 or a non-empty list of distinct integers"


def _coerce_seeds(value):
    """Return run.seeds as an int >= 1 or a tuple of distinct ints, or raise a ConfigError."""
    def bad():
        return ConfigError(f"config key 'run.seeds' must be {SEEDS_ALLOWED}, got {value!r}")

    if isinstance(value, list | tuple):
        if not value or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
            raise bad()
        if len(set(value)) != len(value):
            raise bad()
        return tuple(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad()
    return value


def _sinks_tuple(value):
    if isinstance(value, str | dict):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(s, str | dict) for s in value):
        raise ConfigError(f"config key 'sinks' must be a list of sink names or mappings, "
                          f"got {value!r}")
    return tuple(dict(s) if isinstance(s, dict) else s for s in value)


def flatten(mapping: dict, valid: list) -> dict:
    """Return {dotted key: value} of a nested config mapping, rejecting unknown keys."""
    if not isinstance(mapping, dict):
        raise ConfigError(f"a config must be a mapping of sections, got {type(mapping).__name__}")
    flat = {}

    def walk(prefix, body):
        if body is None:
            return
        if not isinstance(body, dict):
            raise ConfigError(f"config section '{_shown(prefix)}' must be a mapping, got {body!r}")
        for name, value in body.items():
            key = f"{prefix}.{name}"
            if prefix in SECTIONS:
                if key not in valid:
                    raise _unknown(key, valid)
                flat[key] = value
            elif any(s.startswith(key + ".") or s == key for s in SECTIONS):
                walk(key, value)
            else:
                raise _unknown(key, valid)

    for section, body in mapping.items():
        if section == "sinks":
            flat["sinks"] = body
        elif any(s == section or s.startswith(f"{section}.") for s in SECTIONS):
            walk(str(section), body)
        else:
            raise _unknown(str(section), valid)
    return flat


def config_from_dict(flat: dict, explicit=frozenset()) -> Config:
    """Build and validate a Config from {dotted key: value} (missing keys take the defaults)."""
    valid = all_keys()
    defaults = Config()
    sections = {}
    for section, (attr, cls) in SECTIONS.items():
        base = getattr(defaults, attr)
        values = {}
        for f in dataclasses.fields(cls):
            key = f"{section}.{f.name}"
            value = getattr(base, f.name)
            if key == "run.seeds" and key in flat:
                value = _coerce_seeds(flat[key])
            elif key in OPTIONAL_NUMBERS and key in flat:
                value = None if flat[key] is None else _coerce(key, flat[key], 0.0)
                check = RANGES[key]
                if not check[0](value):
                    raise ConfigError(f"config key '{key}' must be {check[1]}, got {value!r}")
            elif key in flat:
                value = _coerce(key, flat[key], value)
                check = RANGES.get(key)
                if check and not check[0](value):
                    raise ConfigError(f"config key '{key}' must be {check[1]}, got {value!r}")
            values[f.name] = value
        sections[attr] = cls(**values)
    for key in flat:
        if key not in valid:
            raise _unknown(key, valid)
    sinks = _sinks_tuple(flat["sinks"]) if "sinks" in flat else defaults.sinks
    config = Config(**sections, sinks=sinks, explicit=frozenset(explicit))
    check_consistency(config)
    return config


def check_consistency(config: Config) -> None:
    """Raise a ConfigError when values are valid alone but not together."""
    batch = batch_size(config)
    mb = config.ppo.num_minibatches
    if batch % mb:
        raise ConfigError(
            f"ppo.num_minibatches={mb} must divide the batch env.num_envs x ppo.num_steps = "
            f"{config.env.num_envs} x {config.ppo.num_steps} = {batch}; "
            f"allowed: a divisor of {batch}, e.g. {nearest_divisor(batch, mb)}")
    if config.ppo.total_timesteps < batch:
        raise ConfigError(
            f"ppo.total_timesteps={config.ppo.total_timesteps} is less than one batch "
            f"(env.num_envs x ppo.num_steps = {batch}); allowed: at least {batch}")
    ev = config.evaluation
    needs_eval = [k for k, on in (("eval.target", ev.target is not None),
                                  ("eval.patience", ev.patience), ("eval.gif_every", ev.gif_every))
                  if on]
    if needs_eval and not ev.every_updates:
        raise ConfigError(f"{', '.join(needs_eval)} need evaluation during training, which "
                          f"eval.every_updates=0 turns off; set eval.every_updates to N >= 1")


def nearest_divisor(n: int, target: float) -> int:
    """Return the divisor of n closest to target (the smaller one on a tie)."""
    # Pairs (d, n // d) up to sqrt(n): instant even for absurd n (a full scan hung at 4e9).
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    divisors = small + [n // d for d in small]
    return min(divisors, key=lambda d: (abs(d - target), d))


def parse_override(text: str) -> tuple:
    """Parse 'dotted.key=value' (value read as a YAML scalar or list) into (key, value)."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' must look like section.key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as err:
        raise ConfigError(f"override {text!r}: value is not valid YAML "
                          f"({yaml_problem(err)})") from None
    if value is None:
        raise ConfigError(f"override '{text}' has no value")
    return key, value


def to_dict(config: Config) -> dict:
    """Return the resolved config as a plain nested mapping (what config.yaml would say)."""
    out = {}
    for section, (attr, _) in SECTIONS.items():
        body = dataclasses.asdict(getattr(config, attr))
        *parents, last = section.split(".")
        node = out
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = {k: list(v) if isinstance(v, tuple) else v for k, v in body.items()}
    out["sinks"] = [dict(s) if isinstance(s, dict) else s for s in config.sinks]
    return out


def flat_dict(config: Config) -> dict:
    """Return the resolved config as {dotted key: value}."""
    flat = {f"{section}.{f.name}": getattr(getattr(config, attr), f.name)
            for section, (attr, cls) in SECTIONS.items() for f in dataclasses.fields(cls)}
    flat = {k: list(v) if isinstance(v, tuple) else v for k, v in flat.items()}
    flat["sinks"] = [dict(s) if isinstance(s, dict) else s for s in config.sinks]
    return flat


def load_config(path=None, overrides=()) -> Config:
    """Load a YAML config (default: the repository's config.yaml) and apply dotted overrides.

    A key counts as set by the user (`Config.explicit`) when an override names it, or when the
    file gives it a value other than the built-in default; auto-scaling leaves those alone.
    """
    valid = all_keys()
    flat = {}
    try:
        if path is not None:
            flat = flatten(read_config_file(path), valid)
        from_file = config_from_dict(flat)
    except ConfigError as err:
        if path is None or str(path) in str(err):
            raise
        raise ConfigError(f"config file '{path}': {err}") from None
    defaults = flat_dict(Config())
    explicit = {k for k, v in flat_dict(from_file).items() if v != defaults[k]}
    for text in overrides:
        key, value = parse_override(text)
        if key not in valid:
            raise _unknown(key, valid)
        flat[key] = value
        explicit.add(key)
    return config_from_dict(flat, explicit)


def replace(config: Config, **dotted) -> Config:
    """Return a copy with dotted keys (given as section__name=value) replaced and re-validated."""
    flat = flat_dict(config)
    for name, value in dotted.items():
        flat[name.replace("__", ".")] = value
    new = config_from_dict(flat, config.explicit)
    return dataclasses.replace(new, autoscaled=config.autoscaled)


def batch_size(config: Config) -> int:
    """Return env steps per update: num_envs x num_steps."""
    return config.env.num_envs * config.ppo.num_steps


def minibatch_size(config: Config) -> int:
    """Return transitions per gradient step."""
    return batch_size(config) // config.ppo.num_minibatches


def num_updates(config: Config) -> int:
    """Return the number of PPO updates of the whole run (total_timesteps // batch, at least 1)."""
    return max(1, config.ppo.total_timesteps // batch_size(config))


def seed_list(config: Config) -> tuple:
    """Return the seeds of the run: run.seeds as a list, or run.seed, run.seed+1, ... (N of them)."""
    seeds = config.run.seeds
    if isinstance(seeds, tuple):
        return seeds
    return tuple(range(config.run.seed, config.run.seed + seeds))


def is_multi_seed(config: Config) -> bool:
    """Whether the run trains a group of seeds (run.seeds other than the default 1).

    A one-element list counts as a group too: the user asked for the seed sub-runs layout.
    """
    return config.run.seeds != 1


def gradient_steps(config: Config) -> int:
    """Return optimiser steps per update: update_epochs x num_minibatches."""
    return config.ppo.update_epochs * config.ppo.num_minibatches
