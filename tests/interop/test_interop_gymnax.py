"""The gymnax 1.0 contract, proven with gymnax's own code: spaces, `make`, gymnax's wrappers, and
the same game from three front ends (the JAX env inside gymnax's pure-JAX wrappers, gymnax's
Gymnasium wrapper, and HackMatrixGymEnv). gymnax's pure-JAX wrappers cannot go inside its
Gymnasium wrapper: that one deep-copies its env, and their `__getattr__` recurses on a copy."""

import jax
import numpy as np
import pytest

gymnax = pytest.importorskip("gymnax")
pytest.importorskip("gymnasium")

from gymnax.environments import spaces
from gymnax.wrappers.gym import GymnaxToGymWrapper
from gymnax.wrappers.purerl import FlattenObservationWrapper, LogWrapper

from hackmatrix.env import HackMatrixEnv, make
from hackmatrix.env.gym import HackMatrixGymEnv

MAX_STEPS = 40  # the step limit of test_interop_gymnasium.py: the adapter compiles once


def test_make_returns_the_env_and_params_with_gymnax_spaces():
    env, params = make("HackMatrix-v0", max_steps_in_episode=MAX_STEPS)
    assert isinstance(env, HackMatrixEnv) and params.max_steps_in_episode == MAX_STEPS
    assert env.name == "HackMatrix-v0" and env.num_actions == 28
    assert isinstance(env.action_space(params), spaces.Discrete)
    assert isinstance(env.observation_space(params), spaces.Box)
    assert spaces.gymnax_space_to_gym_space(env.action_space(params)).n == 28
    with pytest.raises(ValueError, match="registered: HackMatrix-legacy-v0, HackMatrix-v0"):
        make("HackMatrix-v1")
    with pytest.raises(ValueError, match="allowed: curriculum, max_steps_in_episode"):
        make("HackMatrix-v0", max_steps=3)


def _play_jax(env, params, seed, actions):
    """A JAX env with the adapter's key schedule: split, use the second half."""
    key, key_reset = jax.random.split(jax.random.key(seed))
    _, state = env.reset(key_reset, params)
    out = []
    for action in actions:
        key, key_step = jax.random.split(key)
        _, state, reward, terminated, truncated, info = env.step(key_step, state, action, params)
        out.append((float(reward), bool(terminated), bool(truncated)))
        if terminated or truncated:
            return out, info
    return out, info


def _play_gym(env, seed, actions):
    """Any Gymnasium env, reset with the seed, until the episode ends."""
    env.reset(seed=seed)
    out = []
    for action in actions:
        _, reward, terminated, truncated, info = env.step(action)
        out.append((float(reward), bool(terminated), bool(truncated)))
        if terminated or truncated:
            return out, info
    return out, info


def test_three_front_ends_play_the_same_game():
    env, params = make("HackMatrix-v0", max_steps_in_episode=MAX_STEPS)
    # Valid actions along one game, drawn from its masks (the same game in every front end).
    rng = np.random.default_rng(3)
    probe, actions = HackMatrixGymEnv(MAX_STEPS), []
    probe.reset(seed=7)
    while not actions or not any(probe.step(actions[-1])[2:4]):
        actions.append(int(rng.choice(np.flatnonzero(probe.action_masks()))))
    ours, _ = _play_gym(HackMatrixGymEnv(MAX_STEPS), 7, actions)
    theirs, _ = _play_gym(GymnaxToGymWrapper(env, params), 7, actions)
    # gymnax's pure-JAX wrappers (they jit their own steps).
    pure, info = _play_jax(LogWrapper(FlattenObservationWrapper(env)), params, 7, actions)
    assert len(ours) == len(actions) > 3
    assert ours == theirs == pure
    # gymnax's LogWrapper counted the episode that the env's own statistics report.
    assert bool(info["returned_episode"])
    assert float(info["returned_episode_returns"]) == pytest.approx(
        float(info["episode_return"]), abs=1e-5)
    assert int(info["returned_episode_lengths"]) == len(actions) == int(info["episode_length"])
    assert info["final_observation"].shape == (1545,) and info["action_mask"].any()
