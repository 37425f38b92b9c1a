"""Shared fixtures of the trainer tests: a tiny contextual bandit with the env's interface."""

import jax
import jax.numpy as jnp
import pytest
from flax import struct

from hackmatrix.env.constants import NUM_ACTIONS, OBS_LAYOUT, OBS_SIZE

# Action 0 would pay the most but is never valid: a policy that ignores the mask learns it.
FORBIDDEN, FORBIDDEN_REWARD = 0, 2.0
# The rewarded action depends on the context bit in obs[0].
GOOD_ACTION = (3, 7)


@struct.dataclass
class ProbeState:
    """The context bit of the current one-step episode."""

    context: jnp.ndarray


@struct.dataclass
class ProbeInfo:
    """The part of the step-info contract that the trainer reads."""

    reward: jnp.ndarray
    terminated: jnp.ndarray
    truncated: jnp.ndarray


class ProbeEnv:
    """One-step episodes: reward 1 for GOOD_ACTION[context], 2 for the masked action, else 0."""

    num_actions = NUM_ACTIONS

    def _obs(self, context):
        return jnp.zeros((OBS_SIZE,), jnp.float32).at[0].set(context.astype(jnp.float32))

    def reset(self, key, params):
        """Draw a context."""
        context = jax.random.bernoulli(key).astype(jnp.int32)
        return self._obs(context), ProbeState(context=context)

    def observation_layout(self, params=None):
        """The game's layout: the probe's observations have the game's shape (context at 0)."""
        return OBS_LAYOUT

    def action_mask(self, state):
        """Every action but FORBIDDEN."""
        return jnp.arange(NUM_ACTIONS) != FORBIDDEN

    def observe(self, state):
        """The observation of a state."""
        return self._obs(state.context)

    def step_with_final(self, key, state, action, params):
        """Pay the reward and auto-reset; every episode terminates after one step."""
        good = jnp.asarray(GOOD_ACTION)[state.context]
        reward = jnp.where(action == good, 1.0, jnp.where(action == FORBIDDEN,
                                                          FORBIDDEN_REWARD, 0.0))
        obs, new_state = self.reset(key, params)
        info = ProbeInfo(reward=reward, terminated=jnp.bool_(True), truncated=jnp.bool_(False))
        return obs, new_state, reward, jnp.bool_(True), info, state


def probe_reduce(info, actions, stats, learning_rate):
    """A minimal reduction for the probe: mean reward, the PPO stats and the rate."""
    out = {k: v.mean() for k, v in stats.items()}
    out["mean_reward"] = info.reward.mean()
    out["learning_rate"] = learning_rate
    return out


# A tiny run of the probe trainer for the host-loop tests (checkpoints, resume, sinks).
LOOP_BASE = ["env.num_envs=16", "ppo.num_steps=8", "ppo.total_timesteps=1024",
             "network.hidden_sizes=[32]", "ppo.num_minibatches=2", "run.updates_per_chunk=2",
             "checkpoint.every_updates=3", "checkpoint.keep_last=2", "sinks=[jsonl]"]


def probe_train_reduce(info, actions, stats, learning_rate):
    """probe_reduce with the published `train/` names, as the host loop expects them."""
    return {f"train/{k}": v for k, v in probe_reduce(info, actions, stats, learning_rate).items()}


@pytest.fixture
def probe_env():
    """A fresh probe env and its (unused) params."""
    return ProbeEnv(), None
