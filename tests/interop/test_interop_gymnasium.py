"""The game through Gymnasium: `gymnasium.make`, Gymnasium's env checker and random play."""

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

from gymnasium.utils.env_checker import check_env

from hackmatrix.env.gym import HackMatrixGymEnv

MAX_STEPS = 40  # below the ~50 steps of a random game, so random play sees truncations too


def test_gymnasium_make_and_the_env_checker_accept_it():
    env = gymnasium.make("hackmatrix.env.gym:HackMatrix-v0", max_steps_in_episode=MAX_STEPS)
    assert isinstance(env.unwrapped, HackMatrixGymEnv)
    check_env(env.unwrapped, skip_render_check=True)


def test_a_few_thousand_random_valid_steps_stay_in_the_spaces():
    env = HackMatrixGymEnv(max_steps_in_episode=MAX_STEPS)
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=1)
    episodes = {"terminated": 0, "truncated": 0}
    for _ in range(3000):
        assert env.observation_space.contains(obs)
        mask = env.action_masks()
        assert mask.dtype == bool and mask.shape == (28,) and mask.any()
        obs, reward, terminated, truncated, info = env.step(rng.choice(np.flatnonzero(mask)))
        assert sum(info["rewards"].values()) == pytest.approx(reward, abs=1e-4)
        if terminated or truncated:
            episodes["terminated" if terminated else "truncated"] += 1
            assert env.observation_space.contains(obs)  # the final observation
            with pytest.raises(RuntimeError, match="call reset"):
                env.step(0)
            obs, info = env.reset()
    assert episodes["terminated"] > 0 and episodes["truncated"] > 0
