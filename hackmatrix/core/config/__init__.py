"""The typed, validated, immutable training configuration and its loader (config.yaml + overrides).

A `Config` is built only by `load_config` / `config_from_dict`, which check every key, type and
range before anything is compiled. The package holds one concept per module: `sections` (the
fields, each with its doc and limits), `file` (reading a YAML file), `loader` (files, overrides
and flat mappings into a Config) and `derived` (batch size, updates, seeds: functions of the
config, never stored in it, and the checks across keys). This module names the public API.
"""

from hackmatrix.core.config.derived import (
    batch_size,
    gradient_steps,
    is_multi_seed,
    minibatch_size,
    nearest_divisor,
    num_updates,
    seed_list,
)
from hackmatrix.core.config.loader import (
    all_keys,
    config_from_dict,
    flat_dict,
    flatten,
    load_config,
    parse_override,
    replace,
    to_dict,
)
from hackmatrix.core.config.sections import Config, PPOConfig

__all__ = [
    "Config", "PPOConfig", "all_keys", "batch_size", "config_from_dict", "flat_dict", "flatten",
    "gradient_steps", "is_multi_seed", "load_config", "minibatch_size", "nearest_divisor",
    "num_updates", "parse_override", "replace", "seed_list", "to_dict",
]
