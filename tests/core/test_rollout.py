"""The rollout stores terminated and truncated apart, and values the final observation of a
truncated episode (not the auto-reset one), on a tiny counting env with explicit numbers."""

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from hackmatrix.core.rollout import collect

LIMIT = 3  # the counting env's step limit: an episode still running after 3 steps is truncated
ACTIONS = 4


@struct.dataclass
class CountState:
    """Steps taken in the current episode, and the count at which this env's game ends."""

    count: jnp.ndarray
    ends_at: jnp.ndarray


@struct.dataclass
class CountInfo:
    """The part of the step-info contract that the rollout reads."""

    reward: jnp.ndarray
    terminated: jnp.ndarray
    truncated: jnp.ndarray


class CountEnv:
    """Each step counts one; the game ends at `ends_at`, the wrapper truncates at LIMIT."""

    def observe(self, state):
        """obs[0] is the count."""
        return jnp.zeros((2,), jnp.float32).at[0].set(state.count.astype(jnp.float32))

    def action_mask(self, state):
        """Every action."""
        return jnp.ones((ACTIONS,), bool)

    def step_with_final(self, key, state, action, params):
        """Count, then auto-reset a terminated or truncated episode to 0."""
        count = state.count + 1
        terminated = count == state.ends_at
        truncated = ~terminated & (count >= LIMIT)
        done = terminated | truncated
        final = state.replace(count=count)
        next_state = state.replace(count=jnp.where(done, 0, count))
        info = CountInfo(reward=count.astype(jnp.float32), terminated=terminated,
                         truncated=truncated)
        return self.observe(next_state), next_state, info.reward, done, info, final


def apply_fn(params, obs):
    """Uniform logits and the value 10 x count."""
    return jnp.zeros(obs.shape[:-1] + (ACTIONS,)), 10.0 * obs[..., 0] + params


def test_rollout_stores_terminated_truncated_and_the_final_value():
    env = CountEnv()
    # env 0 ends its game every 2 steps; env 1 never does, so the limit truncates it.
    state = CountState(count=jnp.zeros((2,), jnp.int32), ends_at=jnp.array([2, 99], jnp.int32))
    obs = jax.vmap(env.observe)(state)
    mask = jax.vmap(env.action_mask)(state)
    run = jax.jit(lambda p, s, o, m, k: collect(env, None, apply_fn, p, s, o, m, k, 4))
    (last_state, _, _), traj, info = run(jnp.float32(0.0), state, obs, mask, jax.random.key(0))
    assert traj.terminated.tolist() == [[False, False], [True, False], [False, False],
                                        [True, False]]
    assert traj.truncated.tolist() == [[False, False], [False, False], [False, True],
                                       [False, False]]
    np.testing.assert_array_equal(info.truncated, traj.truncated)
    # Values of the observations before each step: counts 0,1,0,1 and 0,1,2,0.
    np.testing.assert_array_equal(traj.value, [[0, 0], [10, 10], [0, 20], [10, 0]])
    # Env 1 truncated at count 3: its final observation (count 3, not the reset 0) is valued;
    # nothing is valued where no truncation happened, a termination included.
    np.testing.assert_array_equal(traj.final_value, [[0, 0], [0, 0], [0, 30], [0, 0]])
    np.testing.assert_array_equal(traj.reward, [[1, 1], [2, 2], [1, 3], [2, 1]])
    assert last_state.count.tolist() == [0, 1]
