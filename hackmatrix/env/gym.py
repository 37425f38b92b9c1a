"""The game as a Gymnasium environment: one game at a time, NumPy in and out, no JAX needed.

Importing this module registers "HackMatrix-v0" with Gymnasium, so
`gymnasium.make("hackmatrix.env.gym:HackMatrix-v0")` works without an import of its own.
`action_masks()` returns the valid actions, as sb3-contrib's MaskablePPO expects.

Keys as in gymnax's own GymnaxToGymWrapper: `reset(seed=s)` starts from `jax.random.key(s)`,
splits it into (carry, reset key) and resets the game with the second; each step splits the carry
the same way and steps with the second. A JAX program that draws its keys in that order plays the
same games (tests/interop check it).
"""

from typing import ClassVar

import gymnasium
import jax
import numpy as np

from hackmatrix.env.constants import NUM_ACTIONS, OBS_SIZE
from hackmatrix.env.params import EnvParams
from hackmatrix.env.wrapper import HackMatrixEnv

ENV_ID = "HackMatrix-v0"


class HackMatrixGymEnv(gymnasium.Env):
    """HackMatrix for single-env, non-JAX code (Gymnasium API); call reset() after an episode."""

    metadata: ClassVar[dict] = {"render_modes": []}

    def __init__(self, max_steps_in_episode: int = EnvParams().max_steps_in_episode):
        self.params = EnvParams(max_steps_in_episode=max_steps_in_episode)
        self.observation_space = gymnasium.spaces.Box(0.0, np.inf, (OBS_SIZE,), np.float32)
        self.action_space = gymnasium.spaces.Discrete(NUM_ACTIONS)
        self._env = HackMatrixEnv()
        self._key = self._state = None
        self._mask = np.zeros(NUM_ACTIONS, bool)
        self._ended = True

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start a new game; return (obs float32[1545], info with the action mask)."""
        super().reset(seed=seed)
        if seed is not None or self._key is None:
            # Unseeded: a seed drawn from Gymnasium's np_random (itself random unless seeded).
            start = seed if seed is not None else int(self.np_random.integers(2**31))
            self._key = jax.random.key(start)
        self._key, key_reset = jax.random.split(self._key)
        obs, self._state = self._env.reset(key_reset, self.params)
        self._mask, self._ended = np.asarray(self._state.action_mask), False
        return np.asarray(obs), {"action_mask": self._mask}

    def step(self, action):
        """Play one action; return (obs, reward, terminated, truncated, info)."""
        if self._ended:
            raise RuntimeError("HackMatrixGymEnv.step() after the episode ended (or before the "
                               "first reset); call reset() first")
        self._key, key_step = jax.random.split(self._key)
        obs, self._state, reward, terminated, truncated, info = self._env.step(
            key_step, self._state, int(action), self.params)
        # One transfer for everything the host reads.
        obs, reward, terminated, truncated, info = jax.device_get(
            (obs, reward, terminated, truncated, info))
        terminated, truncated = bool(terminated), bool(truncated)
        self._ended = terminated or truncated
        if self._ended:  # Gymnasium does not auto-reset: the episode ends on its final state
            obs = info["final_observation"]
        self._mask = np.asarray(info["action_mask"])
        rewards = {name: float(value) for name, value in info["rewards"].items()}
        out = {"action_mask": self._mask, "rewards": rewards, "stage": int(info["stage"]),
               "score": int(info["score"]), "hp": int(info["hp"])}
        return np.asarray(obs), float(reward), terminated, truncated, out

    def action_masks(self) -> np.ndarray:
        """Return bool[28]: the actions valid in the current state (sb3-contrib's hook)."""
        return self._mask


if ENV_ID not in gymnasium.registry:
    gymnasium.register(ENV_ID, entry_point=HackMatrixGymEnv)
