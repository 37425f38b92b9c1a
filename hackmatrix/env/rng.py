"""Every random draw of the game, in one place (rules §11).

Scheme: each random *event* gets its own key

    event_key(step_key, EVENT, occurrence) = fold_in(fold_in(step_key, EVENT), occurrence)

derived from the key passed to `reset` / `step`, and draws a fixed-size block from it no matter how
much of the block the rules use. The reference engine calls these same functions (outside jit) on
the same keys, so both engines see identical values however lazily they consume them.
A choice among K candidates is an integer drawn in [0, K) with `jax.random.randint`, except in
the two hot paths of stage generation (block placements and spawn tries), which draw raw 32-bit
words in one call and reduce them modulo K (K <= 36, so the bias is below 1e-8): about five times
fewer threefry hashes, and generation is dominated by them.

Events and their occurrence index:
  RESET            0                      corner choice, bonus choice
  GENERATE         0                      exit choice, block count, per-attempt block draws
  RESOURCES        0                      36 (u, bit) pairs indexed by row-major cell
  SPAWN_STAGE      k = 0..stage-1         the k-th SpawnTransmission of GenerateStage step 4
  SPAWN_SCHEDULED  0                      the scheduled-task SpawnTransmission of an enemy turn
  SPAWN_SIPHON     k = 0..pending-1       the k-th queued siphon SpawnTransmission
  WARP             0                      target index
  POLY             0                      per enemy list position, index among the 3 other types
  ENEMY_ORDER      s = 0, 1               sub-step s: one uniform per enemy list position
At most one stage generation happens per step, so GENERATE/RESOURCES/SPAWN_STAGE never collide.
"""

import jax
import jax.numpy as jnp

from hackmatrix.env.constants import (
    CORNERS,
    GRID,
    MAX_BLOCKS,
    MAX_ENEMIES,
    MIN_BLOCKS,
    NUM_BONUSES,
    NUM_CELLS,
    NUM_ENEMY_TYPES,
    SPAWN_TRIES,
)

RESET, GENERATE, RESOURCES, SPAWN_STAGE, SPAWN_SCHEDULED, SPAWN_SIPHON, WARP, POLY, ENEMY_ORDER = (
    range(9)
)


def event_key(step_key, event, occurrence=0):
    """Return the key of one random event: fold_in(fold_in(step_key, event), occurrence)."""
    return jax.random.fold_in(jax.random.fold_in(step_key, event), occurrence)


def _sub(key, i):
    return jax.random.fold_in(key, i)


def choice_index(key, n):
    """Return an int32 uniform in [0, n) (n >= 1); the primitive behind every `choice`."""
    return jax.random.randint(key, (), 0, jnp.maximum(n, 1), dtype=jnp.int32)


def _below(words, n):
    """Reduce uint32 words to int32 values in [0, n) (n >= 1; modulo bias below n / 2**32)."""
    return (words % jnp.maximum(n, 1).astype(jnp.uint32)).astype(jnp.int32)


def _unit(words):
    """Map uint32 words to float32 uniforms in [0, 1) (24-bit resolution, like jax.random.uniform)."""
    return (words >> 8).astype(jnp.float32) * jnp.float32(2.0**-24)


def reset_draws(key):
    """Return (corner index in [0,4), bonus index in [0,3): credits, energy, data siphon)."""
    k = event_key(key, RESET)
    return choice_index(_sub(k, 0), len(CORNERS)), choice_index(_sub(k, 1), NUM_BONUSES)


def generation_header(key):
    """Return (exit index among the 3 corners != player in corner order, block count 5..11)."""
    k = event_key(key, GENERATE)
    exit_idx = choice_index(_sub(k, 0), len(CORNERS) - 1)
    count = jax.random.randint(_sub(k, 1), (), MIN_BLOCKS, MAX_BLOCKS + 1, dtype=jnp.int32)
    return exit_idx, count


def block_key(key, attempt, k):
    """Return the key of block k (0-based) of generation attempt `attempt` (0-based)."""
    return _sub(_sub(event_key(key, GENERATE), 2), attempt * MAX_BLOCKS + k)


def block_draws(bkey, n_eligible, n_unused_programs):
    """Return the draws of one block placement (rules §4.5 step 2).

    (cell_index in [0, n_eligible) into the row-major list of eligible cells, is_data,
     is_question, points in 1..9, program index in [0, n_unused_programs) into unused programs).
    All are always drawn; the rules use points if is_data else the program index.
    """
    words = jax.random.bits(bkey, (5,), jnp.uint32)
    cell = _below(words[0], n_eligible)
    is_data = _unit(words[1]) < 0.5
    is_question = _unit(words[2]) < 0.1
    points = 1 + _below(words[3], 9)
    program = _below(words[4], n_unused_programs)
    return cell, is_data, is_question, points, program


def resource_draws(key):
    """Return (u float32[6,6], credits_bit bool[6,6]) indexed by cell (rules §4.5 step 3)."""
    k = event_key(key, RESOURCES)
    u = jax.random.uniform(_sub(k, 0), (NUM_CELLS,)).reshape(GRID, GRID)
    bit = (jax.random.uniform(_sub(k, 1), (NUM_CELLS,)) < 0.5).reshape(GRID, GRID)
    return u, bit


def spawn_draws(key, event, occurrence):
    """Return (rows int32[200], cols int32[200], enemy type in [0,4)) of one SpawnTransmission.

    Tries 0..99 are phase A, 100..199 phase B (rules §4.7). Each try draws one row-major cell
    index in [0, 36): the same distribution as independent (row, col) draws, at half the cost.
    """
    words = jax.random.bits(event_key(key, event, occurrence), (2 * SPAWN_TRIES + 1,), jnp.uint32)
    cells = _below(words[:-1], NUM_CELLS)
    return cells // GRID, cells % GRID, _below(words[-1], NUM_ENEMY_TYPES)


def warp_draw(key, n_targets):
    """Return the WARP target index in [0, n_targets) over enemies ++ transmissions."""
    return choice_index(event_key(key, WARP), n_targets)


def poly_draws(key):
    """Return int32[MAX_ENEMIES]: per enemy list position, index into the 3 other types."""
    others = NUM_ENEMY_TYPES - 1
    return jax.random.randint(event_key(key, POLY), (MAX_ENEMIES,), 0, others, dtype=jnp.int32)


def enemy_order_draws(key, substep):
    """Return float32[MAX_ENEMIES]: one uniform per enemy list position for sub-step `substep`.

    The acting order is the stable ascending sort of these values over the live list positions.
    """
    return jax.random.uniform(event_key(key, ENEMY_ORDER, substep), (MAX_ENEMIES,))
