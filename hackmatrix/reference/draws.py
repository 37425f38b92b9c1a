"""The reference engine's only contact with JAX: the random draws of hackmatrix/env/rng.py.

Each function calls the shared rng function on the same derived key as the JAX engine (jitted with
static event arguments, so dispatch is cheap and results are bit-identical) and returns plain Python
values. The rules that consume the draws live in the other modules and use no JAX.
"""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from hackmatrix.env import rng
from hackmatrix.env.constants import GRID


def host_key(key) -> np.ndarray:
    """Return `key` as a host array (raw uint32 keys), so every draw call avoids a device copy."""
    if jnp.issubdtype(getattr(key, "dtype", np.uint32), jax.dtypes.prng_key):
        return key
    return np.asarray(key)


@jax.jit
def _reset(key):
    corner, bonus = rng.reset_draws(key)
    return jnp.stack([corner, bonus])


@jax.jit
def _header(key):
    exit_idx, count = rng.generation_header(key)
    return jnp.stack([exit_idx, count])


@jax.jit
def _block(key, attempt, k, n_eligible, n_unused):
    cell, is_data, is_question, points, program = rng.block_draws(
        rng.block_key(key, attempt, k), n_eligible, n_unused
    )
    return jnp.stack([cell, is_data.astype(jnp.int32), is_question.astype(jnp.int32), points,
                      program])


_resources = jax.jit(rng.resource_draws)


@partial(jax.jit, static_argnums=(1,))
def _spawn(key, event, occurrence):
    rows, cols, enemy_type = rng.spawn_draws(key, event, occurrence)
    return jnp.concatenate([rows, cols, enemy_type[None]])


_warp = jax.jit(rng.warp_draw)
_poly = jax.jit(rng.poly_draws)
_order = jax.jit(rng.enemy_order_draws, static_argnums=(1,))


def reset_draws(key) -> tuple:
    """Return (corner index 0..3, bonus index 0..2) of a new game."""
    corner, bonus = np.asarray(_reset(key)).tolist()
    return corner, bonus


def generation_header(key) -> tuple:
    """Return (exit index among the 3 corners other than the player's, block count 5..11)."""
    exit_idx, count = np.asarray(_header(key)).tolist()
    return exit_idx, count


def block_draws(key, attempt: int, k: int, n_eligible: int, n_unused: int) -> tuple:
    """Return (cell index, is_data, is_question, points, program index) of block k of an attempt."""
    cell, is_data, is_question, points, program = np.asarray(
        _block(key, attempt, k, n_eligible, n_unused)
    ).tolist()
    return cell, bool(is_data), bool(is_question), points, program


def resource_draws(key) -> tuple:
    """Return (u, credits_bit) as [row][col] nested lists; u stays float32 for exact comparisons."""
    u, bit = _resources(key)
    u = np.asarray(u, dtype=np.float32)
    return [list(u[r]) for r in range(GRID)], np.asarray(bit).tolist()


def spawn_draws(key, event: int, occurrence: int) -> tuple:
    """Return (200 (row, col) tries, enemy type) of one SpawnTransmission."""
    flat = np.asarray(_spawn(key, event, occurrence)).tolist()
    n = (len(flat) - 1) // 2
    return list(zip(flat[:n], flat[n:2 * n])), flat[-1]


def warp_draw(key, n_targets: int) -> int:
    """Return the WARP target index in [0, n_targets)."""
    return int(_warp(key, n_targets))


def poly_draws(key) -> list:
    """Return, per enemy list position, the index into that enemy's 3 other types."""
    return np.asarray(_poly(key)).tolist()


def enemy_order_draws(key, substep: int) -> list:
    """Return one float32 uniform per enemy list position for enemy-turn sub-step `substep`."""
    # Python floats hold float32 values exactly, so the sort order is unchanged.
    return np.asarray(_order(key, substep), dtype=np.float32).tolist()
