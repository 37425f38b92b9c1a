"""Collect a rollout of num_steps x num_envs transitions with `lax.scan`.

The env is used through `step_with_final(key, state, action, params)` -> (obs, state, reward,
done, info, final), with `info.terminated` and `info.truncated`, `action_mask(state)` and
`observe(final)`; `make_train` also sizes the policy head from `env.num_actions` (see
`hackmatrix.env.wrapper.HackMatrixEnv`).
"""

import jax
import jax.numpy as jnp
from flax import struct

from hackmatrix.core import distribution
from hackmatrix.env.sparse_apply import apply_rows


@struct.dataclass
class Transition:
    """One step of every env; stacked by the scan into (num_steps, num_envs, ...) arrays."""

    obs: jnp.ndarray
    mask: jnp.ndarray
    action: jnp.ndarray
    log_prob: jnp.ndarray
    value: jnp.ndarray
    reward: jnp.ndarray
    terminated: jnp.ndarray  # bool: the game ended; its return stops here
    truncated: jnp.ndarray  # bool: the step limit cut a running game; its return goes on
    # float32: the critic's value of the final (pre-reset) observation where truncated, else 0.
    final_value: jnp.ndarray


def final_values(env, apply_fn, params, truncated, final):
    """Return the critic's value of observe(final) for the truncated rows, 0 for the others.

    Truncation is rare, so the observation and the critic run for the truncated rows only.
    """
    def values_of(rows):
        return apply_fn(params, jax.vmap(env.observe)(rows))[1]

    return apply_rows(truncated, values_of, (final,), jnp.zeros(truncated.shape, jnp.float32))


def collect(env, env_params, apply_fn, params, env_state, obs, mask, key, num_steps):
    """Run the policy for num_steps in every env.

    Returns ((env_state, obs, mask), transitions, info), with `info` the env's StepInfo stacked
    to (num_steps, num_envs) arrays.
    """
    step_env = jax.vmap(env.step_with_final, in_axes=(0, 0, 0, None))
    mask_of = jax.vmap(env.action_mask)
    num_envs = obs.shape[0]

    def one_step(carry, step_key):
        env_state, obs, mask = carry
        act_key, env_key = jax.random.split(step_key)
        logits, value = apply_fn(params, obs)
        action = distribution.sample(act_key, logits, mask)
        log_prob = distribution.log_prob(logits, mask, action)
        next_obs, next_state, reward, _, info, final = step_env(
            jax.random.split(env_key, num_envs), env_state, action, env_params)
        transition = Transition(
            obs=obs, mask=mask, action=action, log_prob=log_prob, value=value,
            reward=reward.astype(jnp.float32), terminated=info.terminated,
            truncated=info.truncated,
            final_value=final_values(env, apply_fn, params, info.truncated, final))
        return (next_state, next_obs, mask_of(next_state)), (transition, info)

    carry, (transitions, info) = jax.lax.scan(
        one_step, (env_state, obs, mask), jax.random.split(key, num_steps))
    return carry, transitions, info
