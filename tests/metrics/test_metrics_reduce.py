"""The jittable reduction: exact values on a hand-built rollout, fixed keys under jit and vmap."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hackmatrix.env.constants import PROGRAM_NAMES, REWARD_KEYS, REWARD_SUM_ORDER
from hackmatrix.env.step_info import StepInfo
from hackmatrix.metrics import (
    EPISODE_PREFIX,
    apply_naming,
    drop_empty_episodes,
    metric_name,
    reduce_update,
    to_floats,
    unstack_updates,
)

F = np.float32
B = np.bool_


def hand_rollout():
    """2 steps x 3 envs with values whose reductions are computed by hand below."""
    rewards = {key: np.zeros((2, 3), F) for key in REWARD_KEYS}
    rewards["step_penalty"] = np.full((2, 3), -0.01, F)
    rewards["stage_completion"] = np.array([[0, 1, 0], [0, 0, 2]], F)
    rewards["kills"] = np.array([[0.5, 0, 0], [0, 0, 0]], F)
    info = StepInfo(
        rewards=rewards, reward=sum(rewards[key] for key in REWARD_SUM_ORDER).astype(F),
        terminated=np.array([[0, 1, 0], [0, 0, 0]], B),
        truncated=np.array([[0, 0, 0], [0, 0, 1]], B),
        stage=np.array([[1, 1, 2], [1, 2, 3]], np.int32), score=np.zeros((2, 3), np.int32),
        hp=np.full((2, 3), 3, np.int32),
        # 9 / 99 are garbage where no episode ended: they must not leak into the means.
        episode_return=np.array([[9, 4, 9], [9, 9, 6]], F),
        episode_length=np.array([[99, 10, 99], [99, 99, 20]], np.int32),
        episode_final_stage=np.array([[0, 2, 0], [0, 0, 3]], np.int32),
        episode_won=np.array([[0, 1, 0], [0, 0, 0]], B),
    )
    # move 0, siphon 4, CRASH (5+2), move 3, HACK (5+22), WAIT (5+5)
    actions = np.array([[0, 4, 7], [3, 27, 10]], np.int32)
    ppo = {
        "approx_kl": np.array([[0.01, 0.02], [0.03, 0.04]], F),
        "clip_frac": np.array([[0.1, 0.2], [0.3, 0.4]], F),
        "entropy": np.full((2, 2), 2.0, F),
        "policy_loss": np.array([[-1, 1], [-2, 2]], F),
        "value_loss": np.array([[1, 2], [3, 4]], F),
        "total_loss": np.array([[4, 4], [4, 8]], F),
        "grad_norm": np.array([[0.5, 0.5], [1.5, 1.5]], F),
    }
    return info, actions, ppo


def test_naming_rule():
    assert metric_name("approx_kl") == "train/approx_kl"
    assert metric_name("perf/sps") == "perf/sps"
    assert metric_name("a/b/c") == "a/b/c"
    assert apply_naming({"loss": 1.0, "x/y": 2.0}) == {"train/loss": 1.0, "x/y": 2.0}
    with pytest.raises(ValueError, match="both publish as 'train/loss'"):
        apply_naming({"loss": 1.0, "train/loss": 2.0})
    with pytest.raises(ValueError):
        metric_name("")


def test_hand_computed_values():
    out = to_floats(jax.jit(reduce_update)(*hand_rollout(), 2.5e-4))

    def approx(x):
        return pytest.approx(x, rel=1e-6, abs=1e-9)  # float32 sums in XLA's order

    assert out["reward/step_penalty"] == approx(-0.01)
    assert out["reward/stage_completion"] == approx(0.5)
    assert out["reward/kills"] == approx(0.5 / 6)
    assert out["reward/victory"] == 0.0
    assert out["train/mean_reward"] == approx((-0.06 + 3.5) / 6)
    assert out["actions/move_frac"] == float(F(2) / F(6))
    assert out["actions/siphon_frac"] == float(F(1) / F(6))
    assert out["actions/program_frac"] == float(F(3) / F(6))
    for name in PROGRAM_NAMES:
        expected = float(F(1) / F(6)) if name in ("CRASH", "HACK", "WAIT") else 0.0
        assert out[f"actions/program/{name}"] == expected, name
    assert out["stats/highest_stage"] == 3.0
    assert out["stats/mean_stage"] == approx(10 / 6)
    assert out["episode/count"] == 2.0
    assert out["episode/return_mean"] == 5.0
    assert out["episode/length_mean"] == 15.0
    assert out["episode/final_stage_mean"] == 2.5
    assert out["episode/win_rate"] == 0.5
    assert out["episode/truncated_rate"] == 0.5
    assert out["train/approx_kl"] == approx(0.025)
    assert out["train/clip_frac"] == approx(0.25)
    assert out["train/entropy"] == 2.0
    assert out["train/policy_loss"] == 0.0
    assert out["train/value_loss"] == 2.5
    assert out["train/total_loss"] == 5.0
    assert out["train/grad_norm"] == 1.0
    assert out["train/learning_rate"] == float(F(2.5e-4))
    assert len(out) == 15 + 1 + 3 + 23 + 2 + 6 + 7 + 1


def random_rollout(key, num_steps=16, num_envs=8):
    keys = jax.random.split(key, len(REWARD_KEYS) + 2)
    shape = (num_steps, num_envs)
    rewards = {k: jax.random.normal(keys[i], shape) for i, k in enumerate(REWARD_KEYS)}
    total = jnp.zeros(shape)
    for k in REWARD_SUM_ORDER:
        total = total + rewards[k]
    zeros = jnp.zeros(shape, jnp.int32)
    info = StepInfo(rewards=rewards, reward=total, terminated=zeros.astype(bool),
                    truncated=zeros.astype(bool), stage=zeros + 1, score=zeros, hp=zeros + 3,
                    episode_return=zeros.astype(jnp.float32), episode_length=zeros,
                    episode_final_stage=zeros, episode_won=zeros.astype(bool))
    actions = jax.random.randint(keys[-1], (num_steps, num_envs), 0, 28)
    ppo = {k: jnp.ones((2, 2)) for k in ("approx_kl", "clip_frac", "entropy", "policy_loss",
                                         "value_loss", "total_loss", "grad_norm")}
    return info, actions, ppo


def test_breakdown_means_sum_to_mean_reward_and_fractions_to_one():
    out = to_floats(jax.jit(reduce_update)(*random_rollout(jax.random.PRNGKey(3)), 1e-3))
    total = sum(out[f"reward/{k}"] for k in REWARD_KEYS)
    assert total == pytest.approx(out["train/mean_reward"], abs=1e-5)
    assert out["train/mean_reward"] != 0.0
    fractions = out["actions/move_frac"] + out["actions/siphon_frac"] + out["actions/program_frac"]
    assert fractions == pytest.approx(1.0, abs=1e-6)
    programs = sum(out[f"actions/program/{n}"] for n in PROGRAM_NAMES)
    assert programs == pytest.approx(out["actions/program_frac"], abs=1e-6)


def test_fixed_keys_under_vmap_and_episode_keys_dropped_on_host():
    finished = hand_rollout()
    unfinished = random_rollout(jax.random.PRNGKey(0), num_steps=2, num_envs=3)
    stacked = jax.tree.map(lambda a, b: jnp.stack([jnp.asarray(a), jnp.asarray(b)]),
                           finished, unfinished)
    batched = jax.jit(jax.vmap(reduce_update))(*stacked, jnp.array([1e-3, 5e-4]))
    assert all(v.shape == (2,) for v in batched.values())
    first, second = unstack_updates(jax.device_get(batched))
    assert first.keys() == second.keys()
    assert second["episode/count"] == 0.0
    assert drop_empty_episodes(first) == first
    dropped = drop_empty_episodes(second)
    assert not [k for k in dropped if k.startswith(EPISODE_PREFIX)]
    assert len(dropped) == len(second) - 6
    assert second["train/learning_rate"] == float(F(5e-4))


def test_malformed_inputs_are_named():
    info, actions, ppo = hand_rollout()
    with pytest.raises(TypeError, match="StepInfo"):
        reduce_update({"reward": info.reward}, actions, ppo, 1e-3)
    with pytest.raises(ValueError, match="episode_won"):
        reduce_update(info.replace(episode_won=info.episode_won[:1]), actions, ppo, 1e-3)
    with pytest.raises(ValueError, match="collides"):
        reduce_update(*hand_rollout()[:2], {"mean_reward": np.ones((1, 1), F)}, 1e-3)


def test_unstack_rejects_ragged_chunks():
    with pytest.raises(ValueError):
        unstack_updates({"a": np.zeros(3), "b": np.zeros(2)})
    assert unstack_updates({"a": np.array([1.0, 2.0])}) == [{"a": 1.0}, {"a": 2.0}]
