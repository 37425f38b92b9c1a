"""The runner state: everything a training run carries from one update to the next."""

import jax.numpy as jnp
from flax import struct


@struct.dataclass
class RunnerState:
    """Params, optimiser state, the batch of env states with their current observations, the RNG
    key and the number of updates done; a checkpoint of this pytree resumes a run exactly."""

    params: dict
    opt_state: tuple
    env_state: object  # EnvState batched over envs
    obs: jnp.ndarray  # float32[num_envs, OBS_SIZE]
    mask: jnp.ndarray  # bool[num_envs, NUM_ACTIONS], the valid actions of `obs`
    key: jnp.ndarray  # the run's PRNG key, split once per update
    update: jnp.ndarray  # int32 scalar: updates completed
