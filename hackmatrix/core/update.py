"""One PPO update: rollout, GAE, then update_epochs x num_minibatches gradient steps.

The numeric PPO hyperparameters of `TRACED` are arguments of the update, not constants, so a
population of runs with other values (a sweep) trains in one program.
"""

import copy
import dataclasses

import jax
import jax.numpy as jnp
import optax

from hackmatrix.core import losses
from hackmatrix.core.config import batch_size, gradient_steps, minibatch_size, num_updates
from hackmatrix.core.gae import compute_gae
from hackmatrix.core.rollout import collect
from hackmatrix.core.runner_state import RunnerState

# The PPO keys whose values are traced (they shape nothing): a sweep varies them within a batch.
TRACED = ("learning_rate", "ent_coef", "clip_eps", "vf_coef", "gamma", "gae_lambda",
          "max_grad_norm")


def hparams_of(config) -> dict:
    """Return {name: value} of the config's traced PPO hyperparameters (see TRACED)."""
    return {name: float(getattr(config.ppo, name)) for name in TRACED}


def with_hparams(config, hparams):
    """Return the config with its traced PPO hyperparameters replaced by (traced) values."""
    # A copy, not dataclasses.replace: the section would parse its fields again (Checked), and
    # tracers are not numbers; the values were checked when the config or sweep was loaded.
    ppo = copy.copy(config.ppo)
    for name, value in hparams.items():
        object.__setattr__(ppo, name, value)
    return dataclasses.replace(config, ppo=ppo)


def learning_rate_at(config, update):
    """Return the learning rate used during update number `update` (0-based, traced ok)."""
    lr = config.ppo.learning_rate
    if not config.ppo.anneal_lr:
        return jnp.float32(lr)
    return jnp.float32(lr) * (1.0 - update.astype(jnp.float32) / num_updates(config))


def make_optimizer(config):
    """Return the optax chain: global-norm clipping, then Adam with the (annealed) rate."""
    steps_per_update = gradient_steps(config)

    def schedule(count):
        return learning_rate_at(config, count // steps_per_update)

    return optax.chain(
        optax.clip_by_global_norm(config.ppo.max_grad_norm),
        optax.adam(learning_rate=schedule, eps=1e-5),
    )


def make_learner(config, apply_fn, tx):
    """Return learn(params, opt_state, traj, last_value, key) -> (params, opt_state, stats).

    GAE over the rollout, then update_epochs passes of num_minibatches gradient steps; `stats`
    holds the (update_epochs, num_minibatches) PPO statistics.
    """
    ppo = config.ppo
    n_batch, n_mb, mb_size = batch_size(config), ppo.num_minibatches, minibatch_size(config)

    def gradient_step(carry, idx, data):
        params, opt_state = carry
        batch = jax.tree.map(lambda x: jnp.take(x, idx, axis=0), data)
        (_, stats), grads = jax.value_and_grad(losses.ppo_loss, has_aux=True)(
            params, apply_fn, batch, ppo)
        stats["grad_norm"] = optax.tree.norm(grads)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), stats

    def epoch(carry, epoch_key, data):
        # Minibatches are gathered one at a time from a permutation of the flat batch, so no
        # shuffled copy of the whole rollout is ever materialised.
        order = jax.random.permutation(epoch_key, n_batch).reshape(n_mb, mb_size)
        return jax.lax.scan(lambda c, idx: gradient_step(c, idx, data), carry, order)

    def learn(params, opt_state, traj, last_value, key):
        advantages, targets = compute_gae(traj.reward, traj.value, traj.terminated,
                                          traj.truncated, traj.final_value, last_value,
                                          ppo.gamma, ppo.gae_lambda)
        data = losses.Batch(
            obs=traj.obs, mask=traj.mask, action=traj.action, log_prob=traj.log_prob,
            value=traj.value, advantage=advantages, target=targets)
        data = jax.tree.map(lambda x: x.reshape((n_batch,) + x.shape[2:]), data)
        (params, opt_state), stats = jax.lax.scan(
            lambda c, k: epoch(c, k, data), (params, opt_state),
            jax.random.split(key, ppo.update_epochs))
        return params, opt_state, stats

    return learn


def make_update(config, env, env_params, apply_fn, reduce_fn):
    """Return update(runner, hparams) -> (runner, metrics) for one PPO update; pure, vmappable.

    `hparams` maps each TRACED name to a scalar (traced) value. `reduce_fn(info, actions,
    ppo_stats, learning_rate)` turns the rollout's stacked StepInfo, the actions and the
    (epochs, minibatches) PPO stats into scalars.
    """
    def update(runner: RunnerState, hparams):
        config_ = with_hparams(config, hparams)
        learn = make_learner(config_, apply_fn, make_optimizer(config_))
        key, rollout_key, learn_key = jax.random.split(runner.key, 3)
        (env_state, obs, mask), traj, info = collect(
            env, env_params, apply_fn, runner.params, runner.env_state, runner.obs,
            runner.mask, rollout_key, config.ppo.num_steps)
        _, last_value = apply_fn(runner.params, obs)
        params, opt_state, stats = learn(runner.params, runner.opt_state, traj, last_value,
                                         learn_key)
        metrics = reduce_fn(info, traj.action, stats, learning_rate_at(config_, runner.update))
        runner = runner.replace(params=params, opt_state=opt_state, env_state=env_state,
                                obs=obs, mask=mask, key=key, update=runner.update + 1)
        return runner, metrics

    return update
