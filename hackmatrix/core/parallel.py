"""Data parallelism: envs split across every device of a 1-D mesh, everything else replicated.

The chunk is jitted once over the whole mesh (GSPMD): the program is the single-device program,
partitioned by the compiler, so the results equal a one-device run up to float summation order,
and gradients are averaged across devices by construction (the loss is a mean over the global
minibatch). With `jax.distributed.initialize()` the mesh spans every host's devices and the same
code runs on a TPU pod or GPU cluster.
"""

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from hackmatrix.core.train import make_train
from hackmatrix.errors import ConfigError

AXIS = "data"


def make_mesh(devices=None) -> Mesh:
    """Return a 1-D mesh over the given devices (default: all devices of all processes)."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.asarray(devices), (AXIS,))


def check_divisible(num_envs: int, mesh: Mesh) -> None:
    """Raise a ConfigError when the envs cannot be split evenly across the mesh's devices."""
    count = mesh.devices.size
    if num_envs % count:
        raise ConfigError(
            f"config key 'env.num_envs' = {num_envs} must be divisible by the number of devices "
            f"({count}); allowed: a multiple of {count}, e.g. {max(count, num_envs // count * count)}")


def runner_shardings(runner_shape, mesh: Mesh, env_axis: int = 0):
    """Return the RunnerState of shardings: env-axis leaves split over AXIS, the rest replicated.

    `env_axis` is 1 for a multi-seed runner, whose leaves all lead with the seed axis.
    """
    split = NamedSharding(mesh, PartitionSpec(*([None] * env_axis), AXIS))
    replicated = NamedSharding(mesh, PartitionSpec())
    return runner_shape.replace(
        params=jax.tree.map(lambda _: replicated, runner_shape.params),
        opt_state=jax.tree.map(lambda _: replicated, runner_shape.opt_state),
        env_state=jax.tree.map(lambda _: split, runner_shape.env_state),
        obs=split, mask=split, key=replicated, update=replicated,
    )


def place(host_tree, shardings):
    """Turn host arrays into global device arrays with the given shardings (multi-host safe)."""
    def one(array, sharding):
        array = np.asarray(array)
        return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])

    return jax.tree.map(one, host_tree, shardings)


class Compiled(NamedTuple):
    """A trainer with its functions compiled for one mesh."""

    trainer: object
    init: object  # init(key) -> RunnerState, sharded over the mesh
    chunk: object  # chunk(runner, n) -> (runner, metrics); donates runner
    shapes: object  # RunnerState of ShapeDtypeStructs
    shardings: object  # RunnerState of NamedShardings


@functools.lru_cache(maxsize=4)
def compile_trainer(trainer, mesh: Mesh) -> Compiled:
    """Jit init and compile the chunk ahead of time over the mesh (the first call is not slow).

    Cached, so that running the same trainer again in one process (a resume, a test, a sweep)
    does not compile again.
    """
    shapes = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
    shardings = runner_shardings(shapes, mesh)
    replicated = NamedSharding(mesh, PartitionSpec())
    init = jax.jit(trainer.init, out_shardings=shardings)
    chunk = jax.jit(trainer.train_chunk, in_shardings=(shardings, replicated),
                    out_shardings=(shardings, replicated), donate_argnums=0)
    arg_shapes = jax.tree.map(lambda s, sh: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sh),
                              shapes, shardings)
    n_shape = jax.ShapeDtypeStruct((), jnp.int32, sharding=replicated)
    return Compiled(trainer, init, chunk.lower(arg_shapes, n_shape).compile(), shapes, shardings)


def stack_seed_keys(seeds) -> jnp.ndarray:
    """Return the stacked PRNG keys of the seeds: row i is PRNGKey(seeds[i]), as a 1-seed run."""
    return jnp.stack([jax.random.PRNGKey(seed) for seed in seeds])


@functools.lru_cache(maxsize=4)
def compile_multi_seed(trainer, mesh: Mesh, num_seeds: int) -> Compiled:
    """Compile the chunk vmapped over `num_seeds` seeds: one program trains them all.

    `init(keys)` takes the stacked keys of `stack_seed_keys`; every runner leaf gets a leading
    seed axis and the envs (axis 1) stay split over the mesh. The chunk's metrics are
    {name: (num_seeds, chunk_size)}.
    """
    keys = jax.ShapeDtypeStruct((num_seeds, 2), jnp.uint32)
    shapes = jax.eval_shape(jax.vmap(trainer.init), keys)
    shardings = runner_shardings(shapes, mesh, env_axis=1)
    replicated = NamedSharding(mesh, PartitionSpec())
    one_init = jax.jit(trainer.init)

    def init(keys):
        # Each seed's init is the one-seed init, stacked: on XLA:CPU (jax 0.10.2) the vmapped
        # init of the real game never completes (the process sits idle), while the vmapped chunk
        # runs fine; init runs once per run, so the loop costs nothing that matters.
        runners = [one_init(key) for key in keys]
        return place(jax.device_get(jax.tree.map(lambda *x: jnp.stack(x), *runners)), shardings)

    chunk = jax.jit(jax.vmap(trainer.train_chunk, in_axes=(0, None)),
                    in_shardings=(shardings, replicated), out_shardings=(shardings, replicated),
                    donate_argnums=0)
    arg_shapes = jax.tree.map(lambda s, sh: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sh),
                              shapes, shardings)
    n_shape = jax.ShapeDtypeStruct((), jnp.int32, sharding=replicated)
    return Compiled(trainer, init, chunk.lower(arg_shapes, n_shape).compile(), shapes, shardings)


def _cache_key(config):
    """The config reduced to the sections that shape the computation (seeds aside)."""
    return dataclasses.replace(
        config, run=type(config.run)(updates_per_chunk=config.run.updates_per_chunk),
        checkpoint=type(config.checkpoint)(), health=type(config.health)(),
        evaluation=type(config.evaluation)(), sinks=(),
        explicit=frozenset(), autoscaled=())


def compile_for_config(config, mesh: Mesh) -> Compiled:
    """Return the compiled trainer of a config, reusing it for configs that compile the same.

    Only the sections that shape the computation form the cache key, so a resumed run, a rerun
    with other sinks or checkpoint settings, or a benchmark sweep in one process compiles once.
    """
    return compile_trainer(_trainer_for(_cache_key(config)), mesh)


def compile_multi_seed_for_config(config, mesh: Mesh, num_seeds: int) -> Compiled:
    """Return the multi-seed compiled trainer of a config (cached like `compile_for_config`)."""
    return compile_multi_seed(_trainer_for(_cache_key(config)), mesh, num_seeds)


@functools.lru_cache(maxsize=4)
def _trainer_for(config):
    return make_train(config)
