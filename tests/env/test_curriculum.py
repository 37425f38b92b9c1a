"""The training curriculum: advanced starts are valid games of the right stage, off changes nothing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_invariants import check_state

from hackmatrix.core.config import load_config
from hackmatrix.core.train import default_env
from hackmatrix.env import constants as C
from hackmatrix.env.curriculum import Curriculum, arrival_interval
from hackmatrix.env.generation import new_game
from hackmatrix.env.mask import action_mask
from hackmatrix.env.params import EnvParams
from hackmatrix.env.wrapper import HackMatrixEnv
from hackmatrix.errors import ConfigError

ENV = HackMatrixEnv()
LANES = 256
KEYS = jax.random.split(jax.random.key(11), LANES)
ADVANCED = Curriculum(share=1.0, max_stage=5, max_programs=3, max_resources=10)


def reset_batch(curriculum):
    """Reset LANES games with the curriculum; return (obs, WrapperState) as numpy trees."""
    params = EnvParams(curriculum=curriculum)
    out = jax.jit(jax.vmap(lambda k: ENV.reset(k, params)))(KEYS)
    return jax.tree.map(np.asarray, out)


@pytest.fixture(scope="module")
def advanced():
    return reset_batch(ADVANCED)[1].env_state


@pytest.fixture(scope="module")
def plain():
    return jax.tree.map(np.asarray, jax.vmap(new_game)(KEYS))


def test_off_is_the_plain_game(plain):
    _, state = reset_batch(Curriculum())
    off = state.env_state
    for a, b in zip(jax.tree.leaves(off), jax.tree.leaves(plain), strict=True):
        np.testing.assert_array_equal(a, b)


def test_advanced_stages_cover_the_range(advanced):
    assert set(np.unique(advanced.stage)) == {1, 2, 3, 4, 5}


def test_advanced_starts_are_valid_games(advanced):
    masks = np.asarray(jax.vmap(action_mask)(advanced))
    check_state(advanced, masks)


def test_arrival_interval_follows_the_stage(advanced):
    expected = np.where(advanced.stage == 1, C.INITIAL_SCHED_INTERVAL, 13 - advanced.stage)
    np.testing.assert_array_equal(advanced.sched_interval, expected)
    assert int(arrival_interval(jnp.int32(8))) == 5


def test_each_stage_gets_its_transmissions(advanced):
    assert (advanced.transmissions.count == advanced.stage).all()


def test_owned_programs_and_resources_stay_in_bounds(advanced, plain):
    owned = advanced.player.owned.sum(axis=1)
    assert set(np.unique(owned)) == {0, 1, 2, 3}
    extra_credits = advanced.player.credits - plain.player.credits
    extra_energy = advanced.player.energy - plain.player.energy
    assert extra_credits.min() == 0
    assert extra_credits.max() == 10
    assert extra_energy.min() == 0
    assert extra_energy.max() == 10


def test_the_corner_is_the_plain_games_corner(advanced, plain):
    np.testing.assert_array_equal(advanced.player.row, plain.player.row)
    np.testing.assert_array_equal(advanced.player.col, plain.player.col)


def test_share_is_the_probability_of_an_advanced_start(plain):
    half = reset_batch(Curriculum(share=0.5, max_stage=8, max_programs=0))[1].env_state
    changed = half.stage != plain.stage
    # Advanced starts on stage 1 look plain: expect 0.5 x 7/8 of the lanes changed.
    assert 0.30 < changed.mean() < 0.58


def test_auto_reset_uses_the_curriculum():
    params = EnvParams(max_steps_in_episode=1, curriculum=Curriculum(share=1.0, max_stage=8))
    _, state = jax.jit(jax.vmap(ENV.reset))(KEYS)
    step = jax.jit(jax.vmap(lambda k, s, a: ENV.step(k, s, a, params)))
    actions = jnp.argmax(state.action_mask, axis=1)
    _, after, _, terminated, truncated, info = step(KEYS, state, actions)
    assert bool(truncated.all()) and not bool(terminated.any())
    assert bool(info["truncated"].all())
    assert int(after.env_state.stage.max()) > 1


def test_config_passes_the_curriculum_to_the_training_env():
    config = load_config(overrides=["curriculum.share=0.25", "curriculum.max_programs=2"])
    _, params = default_env(config)
    assert params.curriculum == Curriculum(share=0.25, max_programs=2)


@pytest.mark.parametrize("override, allowed", [
    ("curriculum.share=1.5", "a number in [0, 1]"),
    ("curriculum.max_stage=9", "an integer in [1, 8]"),
    ("curriculum.max_programs=24", "an integer in [0, 23]"),
    ("curriculum.max_resources=-1", "an integer in [0, 1000]"),
])
def test_bad_curriculum_values_are_refused(override, allowed):
    with pytest.raises(ConfigError, match=allowed.replace("[", r"\[").replace("]", r"\]")):
        load_config(overrides=[override])
