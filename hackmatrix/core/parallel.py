"""Parallelism over a 1-D mesh of every device: whole runs per device, or envs split across them.

A population (seeds, a sweep's points x seeds) whose size is a multiple of the device count is
sharded along its member axis: each device trains whole runs and the devices never talk
during a chunk. Otherwise (one run, or members that do not divide evenly) the envs of every run
are split across the devices and everything else is replicated. Either way the chunk is jitted
once over the whole mesh (GSPMD): the program is the single-device program, partitioned by the
compiler, so the results equal a one-device run up to float summation order, and with split
envs the gradients are averaged across devices by construction (the loss is a mean over the
global minibatch). With `jax.distributed.initialize()` the mesh spans every host's devices and the
same code runs on a TPU pod or GPU cluster.
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


def shards_members(num_members: int, mesh: Mesh) -> bool:
    """True when a population is sharded by member: several devices, each with as many runs."""
    count = mesh.devices.size
    return count > 1 and num_members % count == 0


def check_divisible(num_envs: int, mesh: Mesh, num_members: int = 1) -> None:
    """Raise a ConfigError when the envs must be split across the devices but cannot be."""
    count = mesh.devices.size
    if num_envs % count and not shards_members(num_members, mesh):
        raise ConfigError(
            f"config key 'env.num_envs' = {num_envs} must be divisible by the number of devices "
            f"({count}); allowed: a multiple of {count}, e.g. "
            f"{max(count, num_envs // count * count)} (or train a multiple of {count} seeds, "
            f"which the devices split run by run)")


def runner_shardings(runner_shape, mesh: Mesh, by_member: bool = False):
    """Return the RunnerState of shardings: every leaf split along its member axis (axis 0) when
    `by_member`, else the env-axis leaves (axis 1) split over AXIS and the rest replicated."""
    if by_member:
        return jax.tree.map(lambda _: NamedSharding(mesh, PartitionSpec(AXIS)), runner_shape)
    split = NamedSharding(mesh, PartitionSpec(None, AXIS))
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
    replicated: object  # the NamedSharding of the chunk's replicated input n and its metrics
    member: object  # the NamedSharding of a (members,) input: the traced hparams


def stack_seed_keys(seeds) -> jnp.ndarray:
    """Return the stacked PRNG keys of the seeds: row i is PRNGKey(seeds[i]), as a 1-seed run."""
    return jnp.stack([jax.random.PRNGKey(seed) for seed in seeds])


@functools.lru_cache(maxsize=4)
def compile_trainer(trainer, mesh: Mesh, num_seeds: int = 1) -> Compiled:
    """Compile the chunk vmapped over a seed axis of `num_seeds` (1 for a one-seed run).

    `init(keys)` takes the stacked keys of `stack_seed_keys`; every runner leaf leads with the
    seed axis and the envs (axis 1) stay split over the mesh. `chunk(runner, n, hparams)` takes
    each traced hyperparameter as a (num_seeds,) array (`hackmatrix.core.population`), so the
    members of a sweep train with their own values; its metrics are
    {name: (num_seeds, chunk_size)}. Cached, so that running the same trainer again in one
    process (a resume, a test, a sweep) does not compile again.
    """
    keys = jax.ShapeDtypeStruct((num_seeds, 2), jnp.uint32)
    shapes = jax.eval_shape(jax.vmap(trainer.init), keys)
    by_member = shards_members(num_seeds, mesh)
    shardings = runner_shardings(shapes, mesh, by_member)
    replicated = NamedSharding(mesh, PartitionSpec())
    member = NamedSharding(mesh, PartitionSpec(AXIS)) if by_member else replicated
    one_init = jax.jit(trainer.init)

    def init(keys):
        # Each seed's init is the one-seed init, stacked: on XLA:CPU (jax 0.10.2) the vmapped
        # init of the real game never completes (the process sits idle), while the vmapped chunk
        # runs fine; init runs once per run, so the loop costs nothing that matters.
        runners = [one_init(key) for key in keys]
        return place(jax.device_get(jax.tree.map(lambda *x: jnp.stack(x), *runners)), shardings)

    chunk = jax.jit(jax.vmap(trainer.train_chunk, in_axes=(0, None, 0)),
                    in_shardings=(shardings, replicated, member),
                    out_shardings=(shardings, replicated), donate_argnums=0)
    arg_shapes = jax.tree.map(lambda s, sh: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sh),
                              shapes, shardings)
    n_shape = jax.ShapeDtypeStruct((), jnp.int32, sharding=replicated)
    hparams = {name: jax.ShapeDtypeStruct((num_seeds,), jnp.float32, sharding=member)
               for name, _ in trainer.hparams}
    compiled = chunk.lower(arg_shapes, n_shape, hparams).compile()
    return Compiled(trainer, init, compiled, shapes, shardings, replicated, member)


def default_hparams(trainer, num_seeds: int = 1) -> dict:
    """Return the trainer's config values of the traced hyperparameters, for `num_seeds` runs."""
    return {name: np.full((num_seeds,), value, np.float32)
            for name, value in trainer.hparams}


def place_hparams(compiled: Compiled, hparams: dict) -> dict:
    """Return the (members,) hyperparameter arrays as device arrays placed for the chunk."""
    return place(hparams, {name: compiled.member for name in hparams})


def _cache_key(config):
    """The config reduced to the sections that shape the computation (seeds aside)."""
    return dataclasses.replace(
        config, run=type(config.run)(updates_per_chunk=config.run.updates_per_chunk),
        checkpoint=type(config.checkpoint)(), health=type(config.health)(),
        evaluation=type(config.evaluation)(), sinks=(),
        explicit=frozenset(), autoscaled=())


def compile_for_config(config, mesh: Mesh, num_seeds: int = 1) -> Compiled:
    """Return the compiled trainer of a config, reusing it for configs that compile the same.

    Only the sections that shape the computation form the cache key, so a resumed run, a rerun
    with other sinks or checkpoint settings, or a benchmark sweep in one process compiles once.
    """
    return compile_trainer(_trainer_for(_cache_key(config)), mesh, num_seeds)


@functools.lru_cache(maxsize=4)
def _trainer_for(config):
    return make_train(config)
