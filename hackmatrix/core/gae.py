"""Generalised advantage estimation over a (num_steps, num_envs) rollout."""

import jax
import jax.numpy as jnp


def compute_gae(rewards, values, terminated, truncated, final_values, last_value, gamma,
                gae_lambda):
    """Return (advantages, returns), each (T, E).

    `terminated[t]`: transition t ended its game, so nothing is bootstrapped after it.
    `truncated[t]`: the step limit cut a running game at t; its return goes on, so t bootstraps
    from `final_values[t]`, the value of the final (pre-reset) observation, since the next row
    already belongs to the auto-reset game. Either one cuts the advantage recursion at t.
    """
    next_values = jnp.concatenate([values[1:], last_value[None]], axis=0)
    next_values = jnp.where(truncated, final_values, next_values)
    deltas = rewards + gamma * next_values * (1.0 - terminated.astype(jnp.float32)) - values
    same_episode = 1.0 - (terminated | truncated).astype(jnp.float32)

    def backward(carry, x):
        delta, same = x
        adv = delta + gamma * gae_lambda * same * carry
        return adv, adv

    _, advantages = jax.lax.scan(backward, jnp.zeros_like(last_value), (deltas, same_episode),
                                 reverse=True)
    return advantages, advantages + values
