"""Generalised advantage estimation over a (num_steps, num_envs) rollout."""

import jax
import jax.numpy as jnp


def compute_gae(rewards, values, dones, last_value, gamma, gae_lambda):
    """Return (advantages, returns), each (T, E).

    `dones[t]` is True when transition t ended its episode (terminated or truncated; the auto-reset
    hides the final observation, so a truncation is not bootstrapped), which cuts both the
    bootstrap value and the advantage recursion at t.
    """
    not_done = 1.0 - dones.astype(jnp.float32)
    next_values = jnp.concatenate([values[1:], last_value[None]], axis=0)
    deltas = rewards + gamma * next_values * not_done - values

    def backward(carry, x):
        delta, nd = x
        adv = delta + gamma * gae_lambda * nd * carry
        return adv, adv

    _, advantages = jax.lax.scan(backward, jnp.zeros_like(last_value), (deltas, not_done),
                                 reverse=True)
    return advantages, advantages + values
