"""PPO end to end on the probe bandit: it must learn the rewarded action and respect the mask."""

import jax
import numpy as np
import pytest
from conftest import GOOD_ACTION, ProbeEnv, probe_reduce

from hackmatrix.core import load_config, make_train

PROBE = ["env.num_envs=16", "ppo.num_steps=8", "ppo.total_timesteps=7680",
         "network.hidden_sizes=[32]", "ppo.learning_rate=3e-3", "ppo.ent_coef=0.01",
         "ppo.num_minibatches=2", "run.updates_per_chunk=60"]


@pytest.fixture(scope="module")
def probe_run():
    config = load_config(None, PROBE)
    trainer = make_train(config, ProbeEnv(), None, probe_reduce)
    runner = jax.jit(trainer.init)(jax.random.PRNGKey(0))
    chunk = jax.jit(lambda r, n: trainer.train_chunk(r, n, dict(trainer.hparams)))
    return trainer, runner, chunk


def test_ppo_learns_the_rewarded_action_and_never_the_masked_one(probe_run):
    trainer, runner, chunk = probe_run
    assert trainer.num_updates == 60
    final, metrics = chunk(runner, trainer.num_updates)
    rewards = np.asarray(metrics["mean_reward"])
    assert rewards[:5].mean() < 0.2  # about 1/27 at random
    assert rewards[-5:].min() > 0.95
    assert rewards.max() <= 1.0  # the forbidden action (reward 2) was never taken
    assert int(final.update) == 60
    logits, _ = trainer.network.apply(final.params, final.obs)
    greedy = np.asarray(logits.argmax(-1))
    context = np.asarray(final.obs[:, 0]).astype(int)
    np.testing.assert_array_equal(greedy, np.asarray(GOOD_ACTION)[context])
    lr = np.asarray(metrics["learning_rate"])
    np.testing.assert_allclose(lr[[0, 30]], [3e-3, 1.5e-3], rtol=1e-6)


def test_chunk_with_fewer_updates_leaves_zero_rows(probe_run):
    _trainer, runner, chunk = probe_run
    final, metrics = chunk(runner, 3)
    assert int(final.update) == 3
    assert metrics["mean_reward"].shape == (60,)
    assert np.all(np.asarray(metrics["learning_rate"])[3:] == 0.0)
    assert np.all(np.asarray(metrics["learning_rate"])[:3] > 0.0)


def test_train_is_vmappable_over_seeds(probe_run):
    trainer, _, chunk = probe_run
    keys = jax.random.split(jax.random.PRNGKey(5), 2)
    runners = jax.jit(jax.vmap(trainer.init))(keys)
    batched, metrics = jax.jit(jax.vmap(trainer.train_chunk, in_axes=(0, None, None)))(
        runners, 4, dict(trainer.hparams))
    single, single_metrics = chunk(jax.jit(trainer.init)(keys[1]), 4)
    assert metrics["mean_reward"].shape == (2, 60)
    np.testing.assert_allclose(metrics["mean_reward"][1], single_metrics["mean_reward"],
                               atol=1e-6)
    for b, s in zip(jax.tree.leaves(batched.params), jax.tree.leaves(single.params), strict=True):
        np.testing.assert_allclose(b[1], s, rtol=1e-5, atol=1e-6)
