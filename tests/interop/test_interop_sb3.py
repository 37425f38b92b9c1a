"""sb3-contrib's MaskablePPO trains on the Gymnasium adapter and never plays a masked action.

Needs the `sb3` extra (PyTorch), which `make install` leaves out; skipped without it.
"""

import numpy as np
import pytest

gymnasium = pytest.importorskip(
    "gymnasium", reason="needs the interop extra: pip install -e '.[interop]'")
sb3_contrib = pytest.importorskip(
    "sb3_contrib", reason="needs the sb3 extra (PyTorch), which `make install` leaves out: "
    "pip install -e '.[sb3]'")

from hackmatrix.env.gym import HackMatrixGymEnv

MAX_STEPS = 40  # as in the other interop tests: the jitted step is compiled once


class _CountInvalid(gymnasium.Wrapper):
    """Counts the actions played that the mask had ruled out."""

    def __init__(self, env):
        super().__init__(env)
        self.played = self.invalid = 0

    def step(self, action):
        self.played += 1
        self.invalid += int(not self.env.action_masks()[action])
        return self.env.step(action)

    def action_masks(self):
        """The wrapped env's mask (sb3-contrib asks the outermost env)."""
        return self.env.action_masks()


def test_maskable_ppo_learns_with_the_adapters_action_masks():
    env = _CountInvalid(HackMatrixGymEnv(MAX_STEPS))
    model = sb3_contrib.MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1,
                                    policy_kwargs={"net_arch": [16]}, seed=0)
    model.learn(total_timesteps=128)
    assert model.num_timesteps == 128 and env.played == 128 and env.invalid == 0
    obs, _ = env.reset(seed=1)
    action, _ = model.predict(obs, action_masks=env.action_masks())
    assert env.action_masks()[int(action)]
    assert np.asarray(obs).shape == (1545,)
