"""Multi-host start-up: `jax.distributed` from a cluster's environment or from JAX_* variables.

On SLURM, Open MPI, Kubernetes or a Cloud TPU pod JAX finds the coordinator, the process count
and this process's index by itself. Anywhere else (several processes on one machine, hosts started
by hand) the three variables of `ENV_KEYS` name them; JAX reads JAX_COORDINATOR_ADDRESS (and
JAX_LOCAL_DEVICE_IDS) itself but not the other two.
"""

import os

import numpy as np

from hackmatrix.errors import ConfigError

ENV_KEYS = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")


def distributed_args(environ) -> dict:
    """Return `jax.distributed.initialize` keyword arguments from JAX_* variables ({}: detect)."""
    present = [key for key in ENV_KEYS if environ.get(key)]
    if not present:
        return {}
    missing = [key for key in ENV_KEYS if key not in present]
    if missing:
        raise ConfigError(f"run.distributed: {', '.join(present)} set but not "
                          f"{', '.join(missing)}; set all three on every host (JAX_PROCESS_ID "
                          f"0..JAX_NUM_PROCESSES-1), or none on a SLURM/MPI cluster")
    try:
        count, index = int(environ["JAX_NUM_PROCESSES"]), int(environ["JAX_PROCESS_ID"])
    except ValueError:
        raise ConfigError(f"run.distributed: JAX_NUM_PROCESSES={environ['JAX_NUM_PROCESSES']!r} "
                          f"and JAX_PROCESS_ID={environ['JAX_PROCESS_ID']!r} must be integers"
                          ) from None
    if not 0 <= index < count:
        raise ConfigError(f"run.distributed: JAX_PROCESS_ID={index} must lie in 0.."
                          f"{count - 1} (JAX_NUM_PROCESSES={count})")
    return {"coordinator_address": environ["JAX_COORDINATOR_ADDRESS"], "num_processes": count,
            "process_id": index}


def initialize_distributed(environ=None) -> None:
    """Join the multi-host run; call before any device is used."""
    import jax

    args = distributed_args(os.environ if environ is None else environ)
    # CPU-only hosts need a cross-process collective backend (gloo), or every all-reduce fails.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(**args)


def process_zero_decides(flag: bool) -> bool:
    """Return process 0's value of a host-side decision, so every process takes the same branch.

    Decisions that lead into a collective (a checkpoint's gather, stopping the loop) must agree
    across processes, or the processes that differ wait for each other forever; wall-clock time
    and signal arrival are process-local.
    """
    import jax

    if jax.process_count() == 1:
        return bool(flag)
    from jax.experimental import multihost_utils

    return bool(multihost_utils.broadcast_one_to_all(np.bool_(flag)))
