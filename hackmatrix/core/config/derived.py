"""Values derived from a Config (batch size, updates, seeds) and the checks across its keys.

Derived values are functions of the config, never stored in it, so they cannot disagree with it.
"""

import math

from hackmatrix.core.config.sections import Config
from hackmatrix.errors import ConfigError
from hackmatrix.options import INT32_MAX, SEED_MAX


def batch_size(config: Config) -> int:
    """Return env steps per update: num_envs x num_steps."""
    return config.env.num_envs * config.ppo.num_steps


def minibatch_size(config: Config) -> int:
    """Return transitions per gradient step."""
    return batch_size(config) // config.ppo.num_minibatches


def num_updates(config: Config) -> int:
    """Return the number of PPO updates of the whole run (total_timesteps // batch, at least 1)."""
    return max(1, config.ppo.total_timesteps // batch_size(config))


def gradient_steps(config: Config) -> int:
    """Return optimiser steps per update: update_epochs x num_minibatches."""
    return config.ppo.update_epochs * config.ppo.num_minibatches


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


def nearest_divisor(n: int, target: float) -> int:
    """Return the divisor of n closest to target (the smaller one on a tie)."""
    # Pairs (d, n // d) up to sqrt(n): instant even for absurd n (a full scan hung at 4e9).
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    divisors = small + [n // d for d in small]
    return min(divisors, key=lambda d: (abs(d - target), d))


def check_consistency(config: Config) -> None:
    """Raise a ConfigError when values are valid alone but not together."""
    batch = batch_size(config)
    shape = f"env.num_envs x ppo.num_steps = {config.env.num_envs} x {config.ppo.num_steps}"
    if batch > INT32_MAX:
        # Transitions are indexed (shuffled, split into minibatches) with int32 on the device.
        raise ConfigError(f"the batch {shape} = {batch} exceeds {INT32_MAX} (int32 indices on the "
                          f"device); lower env.num_envs or ppo.num_steps")
    mb = config.ppo.num_minibatches
    if batch % mb:
        raise ConfigError(
            f"ppo.num_minibatches={mb} must divide the batch {shape} = {batch}; "
            f"allowed: a divisor of {batch}, e.g. {nearest_divisor(batch, mb)}")
    if config.ppo.total_timesteps < batch:
        raise ConfigError(
            f"ppo.total_timesteps={config.ppo.total_timesteps} is less than one batch "
            f"(env.num_envs x ppo.num_steps = {batch}); allowed: at least {batch}")
    steps = num_updates(config) * gradient_steps(config)
    if steps > INT32_MAX:
        # Adam's step count (which drives the annealed rate) is an int32 on the device.
        most = INT32_MAX // gradient_steps(config) * batch
        raise ConfigError(
            f"ppo.total_timesteps={config.ppo.total_timesteps} makes {steps} gradient steps "
            f"(updates x ppo.update_epochs x ppo.num_minibatches), more than {INT32_MAX} (int32 "
            f"step count of the optimiser); allowed: ppo.total_timesteps at most {most}")
    seeds = seed_list(config)
    if not isinstance(config.run.seeds, tuple) and seeds[-1] > SEED_MAX:
        raise ConfigError(
            f"run.seed={config.run.seed} with run.seeds={config.run.seeds} reaches seed "
            f"{seeds[-1]}, beyond {SEED_MAX} (PRNG seeds are uint32); allowed: run.seed at most "
            f"{SEED_MAX - config.run.seeds + 1}")
    ev = config.evaluation
    needs_eval = [k for k, on in (("eval.target", ev.target is not None),
                                  ("eval.patience", ev.patience), ("eval.gif_every", ev.gif_every))
                  if on]
    if needs_eval and not ev.every_updates:
        raise ConfigError(f"{', '.join(needs_eval)} need evaluation during training, which "
                          f"eval.every_updates=0 turns off; set eval.every_updates to N >= 1")
