"""`make_train(config)`: the pure init and chunk functions of a PPO run (jit/vmap them freely)."""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from hackmatrix.core.config import Config, num_updates
from hackmatrix.core.networks import make_network
from hackmatrix.core.runner_state import RunnerState
from hackmatrix.core.update import hparams_of, make_optimizer, make_update


class Trainer(NamedTuple):
    """The functions and static sizes of one configured run."""

    init: object  # init(key) -> RunnerState
    # train_chunk(runner, n, hparams) -> (runner, metrics with leading axis chunk_size)
    train_chunk: object
    chunk_size: int  # updates per chunk (the last chunk of a run may use fewer)
    num_updates: int  # updates in the whole run
    network: object
    optimizer: object  # built from the config's values (its state does not depend on them)
    # The config's traced PPO hyperparameters as (name, value) pairs (hashable, so a Trainer
    # keys the compile cache); `hackmatrix.core.update.TRACED`.
    hparams: tuple


def default_env(config: Config):
    """Return the real HackMatrix env and its params for a config."""
    from hackmatrix.env import EnvParams, HackMatrixEnv

    return HackMatrixEnv(), EnvParams(max_steps_in_episode=config.env.max_steps_in_episode,
                                      curriculum=config.curriculum)


def make_train(config: Config, env=None, env_params=None, reduce_fn=None) -> Trainer:
    """Build the run's pure functions; env and reduce_fn default to the real game and metrics."""
    if env is None:
        env, env_params = default_env(config)
    if reduce_fn is None:
        from hackmatrix.metrics import reduce_update as reduce_fn
    layout = env.observation_layout(env_params) if hasattr(env, "observation_layout") else None
    network = make_network(config.network, env.num_actions, layout)
    tx = make_optimizer(config)
    update = make_update(config, env, env_params, network.apply, reduce_fn)
    chunk_size = min(config.run.updates_per_chunk, num_updates(config))
    num_envs = config.env.num_envs

    def init(key) -> RunnerState:
        key, net_key, env_key = jax.random.split(key, 3)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(
            jax.random.split(env_key, num_envs), env_params)
        params = network.init(net_key, obs[:1])
        return RunnerState(params=params, opt_state=tx.init(params), env_state=env_state,
                           obs=obs, mask=jax.vmap(env.action_mask)(env_state), key=key,
                           update=jnp.int32(0))

    def train_chunk(runner: RunnerState, n, hparams):
        """Run n <= chunk_size updates with the given hparams; metrics rows from n on are zeros."""
        shapes = jax.eval_shape(update, runner, hparams)[1]
        buffer = jax.tree.map(lambda s: jnp.zeros((chunk_size,) + s.shape, s.dtype), shapes)

        def body(i, carry):
            runner, buffer = carry
            runner, metrics = update(runner, hparams)
            return runner, jax.tree.map(lambda b, m: b.at[i].set(m), buffer, metrics)

        return jax.lax.fori_loop(0, n, body, (runner, buffer))

    return Trainer(init=init, train_chunk=train_chunk, chunk_size=chunk_size,
                   num_updates=num_updates(config), network=network, optimizer=tx,
                   hparams=tuple(hparams_of(config).items()))
