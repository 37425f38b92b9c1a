"""HackMatrixEnv: spaces, reset, auto-reset, truncation, info, tracing; and sparse_apply."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from batched_env import (
    BATCH,
    BATCHED_STEP,
    ENV,
    ENV_RESET,
    PARAMS,
    STEP,
    TRACES,
    lane,
    wrapper_batch,
)

from hackmatrix.env.constants import OBS_SIZE, REWARD_KEYS, RIGHT, UP, WAIT_ACTION
from hackmatrix.env.mask import action_mask
from hackmatrix.env.observation import observe
from hackmatrix.env.scenario import state_from_scenario
from hackmatrix.env.sparse_apply import apply_where
from hackmatrix.env.step_info import StepInfo
from hackmatrix.env.wrapper import HackMatrixEnv, WrapperState


def leaves_equal(a, b):
    return all(np.array_equal(np.asarray(x), np.asarray(y))
               for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))


def test_spaces_and_properties():
    env = HackMatrixEnv()
    assert env.num_actions == 28 and env.name == "HackMatrix-v0"
    assert env.action_space(env.default_params).n == 28
    assert env.action_space().contains(27) and not env.action_space().contains(28)
    assert env.observation_space(env.default_params).shape == (OBS_SIZE,) == (1545,)
    assert env.default_params.max_steps_in_episode == 5000
    assert jax.tree.leaves(env.default_params) == []  # static: never traced


def test_reset_starts_a_fresh_episode():
    obs, state = ENV_RESET(jax.random.key(5))
    core_state = state.env_state
    assert isinstance(state, WrapperState) and obs.shape == (1545,)
    assert int(core_state.stage) == 1 and int(core_state.turn) == 0
    assert not bool(core_state.done) and int(core_state.player.hp) == 3
    np.testing.assert_allclose(np.asarray(obs), np.asarray(observe(core_state)), atol=1e-6, rtol=0)
    assert float(state.episode_return) == 0.0 and int(state.episode_length) == 0
    assert not leaves_equal(state, ENV_RESET(jax.random.key(6))[1])
    np.testing.assert_array_equal(np.asarray(ENV.action_mask(state)),
                                  np.asarray(action_mask(core_state)))
    np.testing.assert_array_equal(np.asarray(ENV.action_mask(core_state)),
                                  np.asarray(action_mask(core_state)))


DAEMON = {"type": "daemon", "row": 1, "col": 1}
LANES = [  # (scenario, action, episode return so far, episode length so far)
    ({"stage": 4, "player": {"hp": 1}, "enemies": [DAEMON]}, RIGHT, 2.5, 40),  # 0 death
    ({"stage": 8, "player": {"row": 5, "col": 4, "score": 3}}, RIGHT, 10.0, 300),  # 1 victory
    ({"player": {"row": 1}}, UP, 1.0, 7),  # 2 ordinary move
    ({"player": {"row": 1}}, UP, 0.0, 4999),  # 3 truncated
    ({"player": {"row": 5, "col": 4}}, RIGHT, 0.0, 3),  # 4 stage completion
    ({"owned": ["WAIT"]}, WAIT_ACTION, 0.0, 2),  # 5 invalid (no energy)
    ({"player": {"row": 4, "col": 5, "hp": 2}, "stage": 3}, UP, 0.0, 9),  # 6 completion
    ({"enemies": [{"type": "virus", "row": 2, "col": 0}]}, UP, 0.0, 1),  # 7 attack
]


@pytest.fixture(scope="module")
def stepped():
    """One batched wrapper step over the LANES (padded with fresh games)."""
    states = [state_from_scenario(s) for s, *_ in LANES]
    batch = wrapper_batch(states, [r for *_, r, _ in LANES], [n for *_, n in LANES])
    keys = jax.random.split(jax.random.key(11), BATCH)
    actions = jnp.asarray([a for _, a, *_ in LANES] + [UP] * (BATCH - len(LANES)), jnp.int32)
    out = BATCHED_STEP(keys, batch, actions, PARAMS)
    return states, keys, actions, out


def test_info_fields_and_dtypes(stepped):
    _, _, _, (obs, state, reward, done, info, _) = stepped
    assert isinstance(info, StepInfo) and set(info.rewards) == set(REWARD_KEYS)
    assert obs.shape == (BATCH, 1545) and obs.dtype == jnp.float32
    assert reward.shape == (BATCH,) and reward.dtype == jnp.float32 and done.dtype == jnp.bool_
    assert all(leaf.shape == (BATCH,) for leaf in jax.tree.leaves(info))
    for flag in (info.terminated, info.truncated, info.episode_won):
        assert flag.dtype == jnp.bool_
    np.testing.assert_array_equal(np.asarray(info.reward), np.asarray(reward))
    assert state.episode_length.dtype == jnp.int32


def test_done_lanes(stepped):
    _, _, _, (_, _, _, done, info, _) = stepped
    assert done[:8].tolist() == [True, True, False, True, False, True, False, False]
    assert info.terminated[:8].tolist() == [True, True, False, False, False, True, False, False]
    assert info.truncated[:8].tolist() == [False, False, False, True] + [False] * 4
    np.testing.assert_array_equal(np.asarray(info.done), np.asarray(done))


def test_final_state_is_the_state_before_the_auto_reset(stepped):
    """The final state of a truncated lane is where its game stood; `step` drops it."""
    states, keys, actions, (_, state, _, _, _, final) = stepped
    key_step, _ = jax.random.split(keys[3])
    core, *_ = STEP(key_step, states[3], actions[3], PARAMS)
    assert leaves_equal(lane(final, 3), core)
    assert not leaves_equal(lane(state.env_state, 3), core)  # the lane itself was reset
    assert leaves_equal(lane(final, 2), lane(state.env_state, 2))  # an ordinary lane: no reset
    # The gymnax 1.0 `step` is the same step with the final observation in its info dict.
    plain = jax.eval_shape(ENV.step, keys[3], lane(state, 3), actions[3], PARAMS)
    assert len(plain) == 6 and plain[5]["final_observation"].shape == (OBS_SIZE,)
    assert {f.name for f in dataclasses.fields(StepInfo)} < set(plain[5])


def test_lanes_match_the_core_step(stepped):
    """Lanes that do not finish carry the core step's state (batched generation included)."""
    states, keys, actions, (obs, state, reward, _, info, _) = stepped
    for i in (2, 4, 6, 7):
        key_step, _ = jax.random.split(keys[i])
        core, core_obs, core_reward, _, core_b = STEP(key_step, states[i], actions[i], PARAMS)
        assert leaves_equal(lane(state.env_state, i), core)
        np.testing.assert_allclose(np.asarray(obs[i]), np.asarray(core_obs), atol=1e-6, rtol=0)
        assert float(reward[i]) == float(core_reward)
        for k in REWARD_KEYS:
            assert float(info.rewards[k][i]) == float(core_b[k])
    assert int(state.env_state.stage[4]) == 2 and int(state.env_state.stage[6]) == 4


def test_finished_lanes_are_fresh_resets(stepped):
    _, keys, _, (obs, state, *_) = stepped
    for i in (0, 1, 3, 5):
        _, key_reset = jax.random.split(keys[i])
        fresh_obs, fresh = ENV_RESET(key_reset)
        assert leaves_equal(lane(state, i), fresh)
        np.testing.assert_allclose(np.asarray(obs[i]), np.asarray(fresh_obs), atol=1e-6, rtol=0)
        assert float(fresh.episode_return) == 0.0 and int(fresh.episode_length) == 0


def test_episode_statistics(stepped):
    _, _, _, (_, state, reward, _, info, _) = stepped
    # death on stage 4 with a return of 2.5 so far
    assert int(info.hp[0]) == 0 and int(info.stage[0]) == 4
    assert float(reward[0]) == pytest.approx(-4.51, abs=1e-5)
    assert float(info.episode_return[0]) == pytest.approx(2.5 - 4.51, abs=1e-5)
    assert int(info.episode_length[0]) == 41 and int(info.episode_final_stage[0]) == 4
    assert not bool(info.episode_won[0])
    # victory: 500 + 100 * 3 + 100 + 0.05 - 0.01
    assert bool(info.episode_won[1]) and int(info.episode_final_stage[1]) == 8
    assert int(info.score[1]) == 3 and int(info.hp[1]) == 3
    assert float(reward[1]) == pytest.approx(900.04, abs=1e-3)
    assert int(info.episode_length[1]) == 301
    # ordinary lanes keep counting
    assert int(state.episode_length[2]) == 8 and int(info.episode_length[2]) == 8
    assert float(state.episode_return[2]) == pytest.approx(1.0 + float(reward[2]), abs=1e-6)
    # truncation: the step itself is ordinary
    assert float(reward[3]) == pytest.approx(0.04, abs=1e-6) and int(info.episode_length[3]) == 5000
    # invalid action: no reward, episode ends
    assert float(reward[5]) == 0.0 and float(info.rewards["step_penalty"][5]) == 0.0


def test_batched_step_compiles_once(stepped):
    _, keys, actions, (_, state, *_) = stepped
    for _ in range(3):
        _, state, *_ = BATCHED_STEP(keys, state, actions, PARAMS)
    assert len(TRACES) == 1 and BATCHED_STEP._cache_size() == 1


def _tiny(key, x):
    return x * 10 + jax.random.randint(key, (), 0, 5), jnp.float32(1.5)


def _reference(active, key, x, y):
    return jax.lax.cond(active, lambda: _tiny(key, x), lambda: (x, y))


def _sparse(active, key, x, y):
    return apply_where(active, _tiny, (key, x), (x, y))


@pytest.mark.parametrize("n", [1, 5, 16, 17, 40])
def test_apply_where_matches_cond_under_vmap(n):
    active = jnp.arange(n) % 3 != 1
    keys = jax.random.split(jax.random.key(n), n)
    x = jnp.arange(n, dtype=jnp.int32)
    y = jnp.zeros(n, jnp.float32)
    got = jax.jit(jax.vmap(_sparse))(active, keys, x, y)
    want = jax.vmap(_reference)(active, keys, x, y)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_apply_where_unbatched_nested_and_broadcast():
    key = jax.random.key(2)
    assert [float(v) for v in _sparse(True, key, jnp.int32(3), jnp.float32(0))] == \
        [float(v) for v in _reference(True, key, jnp.int32(3), jnp.float32(0))]
    assert int(_sparse(False, key, jnp.int32(3), jnp.float32(0))[0]) == 3
    active = (jnp.arange(12) % 2 == 0).reshape(3, 4)
    keys = jax.random.split(key, 12).reshape(3, 4)
    x = jnp.arange(12, dtype=jnp.int32).reshape(3, 4)
    y = jnp.zeros((3, 4), jnp.float32)
    got = jax.jit(jax.vmap(jax.vmap(_sparse)))(active, keys, x, y)
    want = jax.vmap(jax.vmap(_reference))(active, keys, x, y)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
    # an unbatched key and default broadcast over the batch
    got = jax.vmap(_sparse, in_axes=(0, None, 0, None))(active[0], key, x[0], jnp.float32(7))
    want = jax.vmap(_reference, in_axes=(0, None, 0, None))(active[0], key, x[0], jnp.float32(7))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_observation_of_reset_lane_is_observe_of_state(stepped):
    _, _, _, (obs, state, *_) = stepped
    for i in range(BATCH):
        np.testing.assert_allclose(np.asarray(obs[i]), np.asarray(observe(lane(state.env_state, i))),
                                   atol=1e-6, rtol=0)
