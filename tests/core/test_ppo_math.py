"""Masked distribution, GAE, the PPO loss and the networks, against hand computations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hackmatrix.core import distribution
from hackmatrix.core.config import PPOConfig
from hackmatrix.core.gae import compute_gae
from hackmatrix.core.losses import Batch, ppo_loss
from hackmatrix.core.networks import ActorCritic
from hackmatrix.env.constants import NUM_ACTIONS, OBS_LAYOUT, OBS_SIZE


def test_masked_log_probs_and_entropy_by_hand():
    logits = jnp.array([[1.0, 2.0, 3.0, 0.0]])
    mask = jnp.array([[True, False, True, True]])
    z = np.e ** 1 + np.e ** 3 + 1.0
    p = np.array([np.e / z, 0.0, np.e ** 3 / z, 1.0 / z])
    logp = np.asarray(distribution.log_probs(logits, mask)[0])
    np.testing.assert_allclose(logp[[0, 2, 3]], np.log(p[[0, 2, 3]]), rtol=1e-6)
    assert float(jnp.exp(logp[1])) == 0.0
    hand_entropy = -(p[0] * np.log(p[0]) + p[2] * np.log(p[2]) + p[3] * np.log(p[3]))
    np.testing.assert_allclose(distribution.entropy(logits, mask)[0], hand_entropy, rtol=1e-6)
    np.testing.assert_allclose(distribution.log_prob(logits, mask, jnp.array([2]))[0],
                               3.0 - np.log(z), rtol=1e-6)


def test_single_valid_action_has_zero_entropy_and_is_always_sampled():
    logits = jnp.array([[5.0, -1.0, 9.0]])
    mask = jnp.array([[False, True, False]])
    assert float(distribution.entropy(logits, mask)[0]) == 0.0
    assert float(distribution.log_prob(logits, mask, jnp.array([1]))[0]) == 0.0
    keys = jax.random.split(jax.random.PRNGKey(0), 64)
    draws = jax.vmap(lambda k: distribution.sample(k, logits, mask))(keys)
    assert set(np.asarray(draws).ravel().tolist()) == {1}


def test_sampling_never_picks_invalid_actions():
    logits = jnp.zeros((1000, NUM_ACTIONS)).at[:, 0].set(50.0)
    mask = jnp.ones((1000, NUM_ACTIONS), bool).at[:, 0].set(False)
    draws = distribution.sample(jax.random.PRNGKey(1), logits, mask)
    assert int(draws.min()) >= 1


def _gae_loop(rewards, values, terminated, truncated, final_values, last_value, gamma, lam):
    steps, envs = rewards.shape
    adv = np.zeros((steps, envs))
    for e in range(envs):
        running = 0.0
        for t in reversed(range(steps)):
            next_v = last_value[e] if t == steps - 1 else values[t + 1, e]
            if truncated[t, e]:
                next_v = final_values[t, e]
            delta = rewards[t, e] + gamma * next_v * (1.0 - terminated[t, e]) - values[t, e]
            same_episode = 1.0 - float(terminated[t, e] or truncated[t, e])
            running = delta + gamma * lam * same_episode * running
            adv[t, e] = running
    return adv, adv + values


def test_gae_equals_a_python_loop():
    rng = np.random.default_rng(0)
    rewards = rng.normal(size=(9, 5)).astype(np.float32)
    values = rng.normal(size=(9, 5)).astype(np.float32)
    ends = rng.random((9, 5))
    terminated, truncated = ends < 0.2, (ends >= 0.2) & (ends < 0.3)
    final_values = np.where(truncated, rng.normal(size=(9, 5)), 0.0).astype(np.float32)
    last = rng.normal(size=(5,)).astype(np.float32)
    adv, ret = compute_gae(jnp.asarray(rewards), jnp.asarray(values), jnp.asarray(terminated),
                           jnp.asarray(truncated), jnp.asarray(final_values), jnp.asarray(last),
                           0.99, 0.95)
    want_adv, want_ret = _gae_loop(rewards, values, terminated, truncated, final_values, last,
                                   0.99, 0.95)
    np.testing.assert_allclose(adv, want_adv, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ret, want_ret, rtol=1e-5, atol=1e-5)


def test_gae_two_steps_by_hand():
    adv, _ = compute_gae(jnp.array([[1.0], [2.0]]), jnp.array([[0.5], [0.25]]),
                         jnp.array([[False], [True]]), jnp.array([[False], [False]]),
                         jnp.zeros((2, 1)), jnp.array([10.0]), 0.5, 0.5)
    # t=1 is terminal: delta1 = 2 - 0.25 = 1.75. t=0: delta0 = 1 + 0.5*0.25 - 0.5 = 0.625,
    # adv0 = 0.625 + 0.25 * 1.75 = 1.0625.
    np.testing.assert_allclose(np.asarray(adv)[:, 0], [1.0625, 1.75], rtol=1e-6)


def test_gae_bootstraps_a_truncation_by_hand():
    """Env 0 is truncated at t=1, env 1 terminated there; both see the same numbers."""
    rewards = jnp.array([[1.0, 1.0], [2.0, 2.0], [4.0, 4.0]])
    values = jnp.array([[0.5, 0.5], [0.25, 0.25], [1.0, 1.0]])
    terminated = jnp.array([[False, False], [False, True], [False, False]])
    truncated = jnp.array([[False, False], [True, False], [False, False]])
    # The value of env 0's final observation; env 1's 8 must be ignored (it terminated).
    final_values = jnp.array([[0.0, 0.0], [8.0, 8.0], [0.0, 0.0]])
    adv, ret = compute_gae(rewards, values, terminated, truncated, final_values,
                           jnp.array([10.0, 10.0]), 0.5, 0.5)
    # t=2 (a new episode in both): delta2 = 4 + 0.5 * 10 - 1 = 8 = adv2.
    # env 0, t=1 truncated: delta1 = 2 + 0.5 * 8 - 0.25 = 5.75 = adv1 (t=2 is another episode);
    #   t=0: delta0 = 1 + 0.5 * 0.25 - 0.5 = 0.625, adv0 = 0.625 + 0.25 * 5.75 = 2.0625.
    # env 1, t=1 terminated: delta1 = 2 - 0.25 = 1.75 = adv1; adv0 = 0.625 + 0.25 * 1.75.
    np.testing.assert_allclose(np.asarray(adv), [[2.0625, 1.0625], [5.75, 1.75], [8.0, 8.0]],
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ret), [[2.5625, 1.5625], [6.0, 2.0], [9.0, 9.0]],
                               rtol=1e-6)


def test_ppo_loss_by_hand():
    # Two samples, two actions (both valid), fixed network outputs: logits 0 -> pi = 0.5 each.
    logits = jnp.zeros((2, 2))
    value = jnp.array([1.0, 0.0])

    def apply_fn(params, obs):
        return logits, value

    old_logp = jnp.log(jnp.array([0.25, 0.5]))  # ratios 2.0 and 1.0
    batch = Batch(obs=jnp.zeros((2, 1)), mask=jnp.ones((2, 2), bool),
                  action=jnp.array([0, 1]), log_prob=old_logp,
                  value=jnp.array([0.0, 0.0]), advantage=jnp.array([1.0, -1.0]),
                  target=jnp.array([2.0, 0.5]))
    ppo = PPOConfig(clip_eps=0.2, vf_coef=0.5, ent_coef=0.1, normalize_advantages=False,
                    clip_value_loss=True)
    total, stats = ppo_loss(None, apply_fn, batch, ppo)
    # surrogate: min(2*1, 1.2*1) = 1.2 ; min(1*-1, 1*-1) = -1 -> policy loss -(0.2/2) = -0.1
    assert float(stats["policy_loss"]) == pytest.approx(-0.1, abs=1e-6)
    # value: sample 0 unclipped (1-2)^2 = 1, clipped 0+0.2 -> (0.2-2)^2 = 3.24 -> 3.24;
    # sample 1: (0-0.5)^2 = 0.25 both -> 0.5 * mean(3.24, 0.25) = 0.8725
    assert float(stats["value_loss"]) == pytest.approx(0.8725, abs=1e-6)
    assert float(stats["entropy"]) == pytest.approx(np.log(2), abs=1e-6)
    assert float(total) == pytest.approx(-0.1 + 0.5 * 0.8725 - 0.1 * np.log(2), abs=1e-6)
    assert float(stats["clip_frac"]) == pytest.approx(0.5)
    # approx_kl = mean((r - 1) - log r) = ((1 - log 2) + 0) / 2
    assert float(stats["approx_kl"]) == pytest.approx((1 - np.log(2)) / 2, abs=1e-6)


@pytest.mark.parametrize("kind", ["mlp", "grid", "ego"])
def test_networks_shapes_and_separate_towers(kind):
    net = ActorCritic(num_actions=NUM_ACTIONS, layout=OBS_LAYOUT, kind=kind, hidden_sizes=(16,),
                      conv_channels=(4,))
    obs = jax.random.uniform(jax.random.PRNGKey(0), (3, OBS_SIZE))
    params = net.init(jax.random.PRNGKey(1), obs)
    logits, value = net.apply(params, obs)
    assert logits.shape == (3, NUM_ACTIONS) and value.shape == (3,)
    towers = [k for k in params["params"] if "Tower" in k]
    assert len(towers) == 2
    if kind == "grid":
        conv = params["params"][towers[0]]["Conv_0"]["kernel"]
        assert conv.shape == (3, 3, 42, 4)
        # The dense layer sees 36 cells x 4 channels plus the 33 player/program floats.
        assert params["params"][towers[0]]["Dense_0"]["kernel"].shape == (36 * 4 + 33, 16)
