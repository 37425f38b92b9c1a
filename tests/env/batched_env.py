"""Jitted functions shared by the env API tests, so that each compiles once per test session.

Compiling the full step takes tens of seconds on the 2-core test machine: every test module
imports these objects instead of building its own `jax.jit(jax.vmap(...))`.
"""

import jax
import jax.numpy as jnp

from hackmatrix.env.mask import action_mask
from hackmatrix.env.params import EnvParams
from hackmatrix.env.step import reset, step
from hackmatrix.env.wrapper import HackMatrixEnv, WrapperState

BATCH = 16
ENV = HackMatrixEnv()
PARAMS = EnvParams()
STEP = jax.jit(step)
RESET = jax.jit(reset)
ENV_RESET = jax.jit(ENV.reset)
# One entry per trace of the batched wrapper step (a Python side effect runs only when tracing).
TRACES = []


def _traced_env_step(key, state, action, params):
    TRACES.append(1)
    return ENV.step_with_final(key, state, action, params)


# The wrapper step with its final (pre-reset) states: (obs, state, reward, done, info, final).
BATCHED_STEP = jax.jit(jax.vmap(_traced_env_step, in_axes=(0, 0, 0, None)))
BATCHED_MASK = jax.jit(jax.vmap(action_mask))


@jax.jit
def sample_actions(key, states: WrapperState):
    """Return (int32[B] uniformly random valid actions, bool[B, 28] masks) of a wrapper batch."""
    masks = jax.vmap(ENV.action_mask)(states)
    logits = jnp.where(masks, 0.0, -jnp.inf)
    keys = jax.random.split(key, masks.shape[0])
    actions = jax.vmap(jax.random.categorical)(keys, logits).astype(jnp.int32)
    return actions, masks


def stack(trees):
    """Stack a list of equal-structure pytrees along a new leading axis."""
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def wrapper_batch(env_states, returns=None, lengths=None):
    """Return a WrapperState of BATCH lanes: the given EnvStates, then fresh games as padding."""
    env_states = list(env_states)
    n = len(env_states)
    env_states += [ENV_RESET(jax.random.key(1000 + i))[1].env_state for i in range(BATCH - n)]
    returns = list(returns or [0.0] * n) + [0.0] * (BATCH - n)
    lengths = list(lengths or [0] * n) + [0] * (BATCH - n)
    env_state = stack(env_states)
    return WrapperState(env_state=env_state,
                        episode_return=jnp.asarray(returns, jnp.float32),
                        episode_length=jnp.asarray(lengths, jnp.int32),
                        action_mask=jax.vmap(action_mask)(env_state))


def lane(tree, i):
    """Return lane i of a batched pytree."""
    return jax.tree.map(lambda x: x[i], tree)
