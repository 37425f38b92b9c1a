"""Collect a rollout of num_steps x num_envs transitions with `lax.scan`."""

import jax
import jax.numpy as jnp
from flax import struct

from hackmatrix.core import distribution


@struct.dataclass
class Transition:
    """One step of every env; stacked by the scan into (num_steps, num_envs, ...) arrays."""

    obs: jnp.ndarray
    mask: jnp.ndarray
    action: jnp.ndarray
    log_prob: jnp.ndarray
    value: jnp.ndarray
    reward: jnp.ndarray
    done: jnp.ndarray


def collect(env, env_params, apply_fn, params, env_state, obs, mask, key, num_steps):
    """Run the policy for num_steps in every env.

    Returns ((env_state, obs, mask), transitions, info), with `info` the env's info dict stacked
    to (num_steps, num_envs) arrays.
    """
    step_env = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    mask_of = jax.vmap(env.action_mask)
    num_envs = obs.shape[0]

    def one_step(carry, step_key):
        env_state, obs, mask = carry
        act_key, env_key = jax.random.split(step_key)
        logits, value = apply_fn(params, obs)
        action = distribution.sample(act_key, logits, mask)
        log_prob = distribution.log_prob(logits, mask, action)
        next_obs, next_state, reward, done, info = step_env(
            jax.random.split(env_key, num_envs), env_state, action, env_params)
        transition = Transition(obs=obs, mask=mask, action=action, log_prob=log_prob,
                                value=value, reward=reward.astype(jnp.float32), done=done)
        return (next_state, next_obs, mask_of(next_state)), (transition, info)

    carry, (transitions, info) = jax.lax.scan(
        one_step, (env_state, obs, mask), jax.random.split(key, num_steps))
    return carry, transitions, info
