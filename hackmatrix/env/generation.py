"""Stage generation, new games and transmission spawning (rules §2.5, §4.5, §4.7)."""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from hackmatrix.env import rng
from hackmatrix.env.bfs import (
    FULL,
    cell_bits,
    cell_mask,
    count_cells,
    flood_bits,
    has_cell,
    pack,
    select_bit,
    select_cell,
    spread_bits,
)
from hackmatrix.env.constants import (
    BLOCK,
    BONUS_CREDITS,
    BONUS_ENERGY,
    BONUS_SIPHONS,
    CORNERS,
    EMPTY,
    EXIT,
    GEN_ATTEMPTS,
    GRID,
    INITIAL_SCHED_INTERVAL,
    KIND_DATA,
    KIND_NONE,
    KIND_PROGRAM,
    KIND_QUESTION,
    MAX_BLOCKS,
    NUM_CELLS,
    NUM_PROGRAMS,
    PICKUP,
    PROGRAM_SPAWN,
    SPAWN_TRIES,
)
from hackmatrix.env.entities import append, occupancy
from hackmatrix.env.state import EnvState, blank_state, empty_grid, initial_player
from hackmatrix.env.undo import clear_history

I32 = jnp.int32
_CORNERS = np.array(CORNERS, np.int32)
_CORNER_CELLS = np.zeros(NUM_CELLS, bool)
_CORNER_CELLS[_CORNERS[:, 0] * GRID + _CORNERS[:, 1]] = True
_SPAWN = np.array(PROGRAM_SPAWN, np.int32)
_IDX = np.arange(GRID)
_NO_TRY = 2 * SPAWN_TRIES * 64  # above every (try, cell) code of spawn_into


def line_of_fire(state: EnvState) -> jnp.ndarray:
    """Return bool[6, 6]: LoF(c) of rules §4.7 for every cell c.

    Only the cells strictly between the player and c are checked (our reading of "strictly
    before c": the player's own cell never blocks, even when the player stands on a block after
    WARP or shares it with an enemy). Enemies and blocks stop the trace; transmissions do not.
    """
    pr, pc = state.player.row, state.player.col
    obstacle = (state.grid.content == BLOCK) | occupancy(state.enemies)
    # between[c, j]: cell j lies strictly between the player's coordinate p and c on one line.
    def clear(line, p):
        lo = jnp.minimum(p, _IDX)[:, None]
        hi = jnp.maximum(p, _IDX)[:, None]
        between = (_IDX[None, :] > lo) & (_IDX[None, :] < hi)
        return ~(between & line[None, :]).any(axis=1)

    row_clear = clear(obstacle[pr], pc)
    col_clear = clear(obstacle[:, pc], pr)
    return ((_IDX[:, None] == pr) & row_clear[None, :]) | ((_IDX[None, :] == pc) & col_clear[:, None])


def empty_cells(state: EnvState) -> jnp.ndarray:
    """Return bool[6, 6]: Empty(c) of rules §4.7 (EXIT and PICKUP cells count as Empty)."""
    return (
        (state.grid.content != BLOCK)
        & ~occupancy(state.enemies)
        & ~occupancy(state.transmissions)
        & ~cell_mask(state.player.row, state.player.col)
    )


def spawn_into(key, transmissions, empty_bits, lof_bits, event, occurrence, scheduled, siphon,
               enabled=True):
    """One SpawnTransmission (rules §4.7) given the bitboards (lo, hi) of Empty and LoF cells.

    Returns (transmissions, empty_bits): the picked cell stops being Empty, so a caller spawning
    several times in a row can reuse the maps (LoF ignores transmissions). Nothing happens when
    `enabled` is False; a full list drops the new transmission [D5].
    """
    rows, cols, enemy_type = rng.spawn_draws(key, event, occurrence)
    tries = jnp.arange(2 * SPAWN_TRIES)
    ok = has_cell(*empty_bits, rows, cols) & (
        (tries >= SPAWN_TRIES) | ~has_cell(*lof_bits, rows, cols)
    )
    # Phase A tries come before phase B tries, so the first success overall is phase A's first
    # success when there is one, else phase B's. Encode (try, cell) in one int for a single min.
    flat = rows * GRID + cols
    best = jnp.where(ok, tries * 64 + flat, _NO_TRY).min()
    found = enabled & (best < _NO_TRY)
    cell = best % 64
    row, col = cell // GRID, cell % GRID
    transmissions = append(
        transmissions, found, row=row, col=col, timer=1, enemy_type=enemy_type,
        from_scheduled=scheduled, from_siphon=siphon,
    )
    pick_lo, pick_hi = cell_bits(row, col)
    empty_lo, empty_hi = empty_bits
    return transmissions, (jnp.where(found, empty_lo & ~pick_lo, empty_lo),
                           jnp.where(found, empty_hi & ~pick_hi, empty_hi))


def spawn_maps(state: EnvState):
    """Return the bitboards ((lo, hi), (lo, hi)) of the Empty and LoF cells, for spawn_into."""
    return pack(empty_cells(state)), pack(line_of_fire(state))


def spawn_transmission(key, state: EnvState, event, occurrence, scheduled, siphon) -> EnvState:
    """SpawnTransmission of rules §4.7 with the draws of rng.spawn_draws(key, event, occurrence)."""
    trans, _ = spawn_into(
        key, state.transmissions, *spawn_maps(state), event, occurrence, scheduled, siphon
    )
    return state.replace(transmissions=trans)


_PROGRAM_BITS = (1 << NUM_PROGRAMS) - 1
_BLOCK_FIELDS = 4  # kind, points, program, row-major cell
# Attempts per loop trip: under vmap the loop runs until the slowest lane accepts, and a trip
# of 8 attempts costs little more than one on 16 lanes (measured: a 16-lane new_game 2x faster
# with 4 than with 1; 8 is a little faster again in the 1024-env benchmark).
_PARALLEL_ATTEMPTS = 8


def _attempt_blocks(key, attempt, count, free_lo, free_hi):
    """Place the blocks of one generation attempt (rules §4.5 step 2).

    The 11 placements are unrolled (XLA then fuses their random draws, about five times faster
    than a loop) and work on bitboards: E_k is `free` minus the blocks placed so far, and the
    cell_index-th eligible cell in row-major order is the cell_index-th set bit.
    Returns (block lo, block hi, placed bool[11], int32[4, 11] per placement: kind, points,
    program (-1 for data payloads), cell).
    """
    block_lo = block_hi = jnp.zeros_like(free_lo)
    used = jnp.zeros_like(free_lo)  # bit q: program q already placed in this attempt
    placed, records = [], []
    for k in range(MAX_BLOCKS):
        elig_lo, elig_hi = free_lo & ~block_lo, free_hi & ~block_hi
        n_eligible = count_cells(elig_lo, elig_hi)
        cell_i, is_data, is_question, p, prog_i = rng.block_draws(
            rng.block_key(key, attempt, k), n_eligible, NUM_PROGRAMS - lax.population_count(used)
        )
        # An exhausted E stops the placing for good: E only shrinks within an attempt.
        do = (k < count) & (n_eligible > 0)
        cell = select_cell(elig_lo, elig_hi, cell_i)
        q = select_bit(~used & _PROGRAM_BITS, prog_i)
        bit_lo, bit_hi = cell_bits(cell // GRID, cell % GRID)
        block_lo = block_lo | jnp.where(do, bit_lo, 0)
        block_hi = block_hi | jnp.where(do, bit_hi, 0)
        used = used | jnp.where(do & ~is_data, jnp.left_shift(1, q), 0)
        base_kind = jnp.where(is_data, KIND_DATA, KIND_PROGRAM)
        placed.append(do)
        records.append(jnp.stack([
            jnp.where(is_question, KIND_QUESTION, base_kind),
            jnp.where(is_data, p, 0),
            jnp.where(is_data, -1, q),
            cell,
        ]).astype(I32))
    return block_lo, block_hi, jnp.stack(placed), jnp.stack(records, axis=1)


def _acceptable_bits(block_lo, block_hi, exit_lo, exit_hi):
    """blocks_acceptable on bitboards."""
    open_lo, open_hi = FULL & ~block_lo, FULL & ~block_hi
    # (a) BFS from (0, 0); the exit may be reached but is not expanded (unless it is the start).
    src_lo, src_hi = cell_bits(0, 0)
    reach_lo, reach_hi = flood_bits(open_lo & ~exit_lo, open_hi & ~exit_hi, src_lo, src_hi)
    near_lo, near_hi = spread_bits(reach_lo, reach_hi)
    reach_lo = reach_lo | (exit_lo & near_lo)
    reach_hi = reach_hi | (exit_hi & near_hi)
    connected = ((open_lo & ~reach_lo) | (open_hi & ~reach_hi)) == 0
    # (b) every block has an in-bounds orthogonal neighbour that is not a block.
    air_lo, air_hi = spread_bits(open_lo, open_hi)
    breathing = ((block_lo & ~air_lo) | (block_hi & ~air_hi)) == 0
    return connected & breathing


def blocks_acceptable(block, exit_cell) -> jnp.ndarray:
    """Acceptance checks (a) and (b) of rules §4.5 step 2 for bool[6, 6] block and exit masks."""
    return _acceptable_bits(*pack(block), *pack(exit_cell))


def _generate_blocks(key, count, free, exit_cell):
    """Run up to 100 attempts; return the [6, 6] block arrays of the first accepted one (or none)."""
    free_lo, free_hi = pack(free)
    exit_lo, exit_hi = pack(exit_cell)

    def cond(carry):
        return ~carry[1] & (carry[0] < GEN_ATTEMPTS)

    def body(carry):
        # _PARALLEL_ATTEMPTS consecutive attempts at once, the first accepted one wins: each
        # attempt has its own keys, so this is the sequential rule at a fraction of the loop trips.
        attempts = carry[0] + jnp.arange(_PARALLEL_ATTEMPTS, dtype=I32)
        block_lo, block_hi, placed, records = jax.vmap(
            lambda a: _attempt_blocks(key, a, count, free_lo, free_hi))(attempts)
        ok = jax.vmap(lambda lo, hi: _acceptable_bits(lo, hi, exit_lo, exit_hi))(block_lo, block_hi)
        ok = ok & (attempts < GEN_ATTEMPTS)
        first = jnp.argmax(ok)
        return attempts[-1] + 1, ok.any(), placed[first], records[first]

    init = (I32(0), jnp.bool_(False), jnp.zeros(MAX_BLOCKS, bool),
            jnp.zeros((_BLOCK_FIELDS, MAX_BLOCKS), I32))
    _, accepted, placed, records = lax.while_loop(cond, body, init)
    kind, points, program, cell = records
    # spawn = p for data payloads, SPAWN[q] for program payloads.
    spawn = jnp.where(program >= 0, jnp.asarray(_SPAWN)[jnp.maximum(program, 0)], points)
    # If all 100 attempts failed the stage has no blocks.
    cell = jnp.where(placed & accepted, cell, NUM_CELLS)
    base = jnp.stack([jnp.zeros(NUM_CELLS, I32), jnp.zeros(NUM_CELLS, I32),
                      jnp.full(NUM_CELLS, -1, I32), jnp.zeros(NUM_CELLS, I32)])
    kind, points, program, spawn = base.at[:, cell].set(
        jnp.stack([kind, points, program, spawn]), mode="drop")
    return kind != KIND_NONE, kind, points, program, spawn


def generate_stage(key, state: EnvState) -> EnvState:
    """GenerateStage of rules §4.5: fresh grid, exit, pickups, blocks, resources, transmissions.

    The player (who stands on a corner), enemies, transmissions and pending_spawns are kept.
    """
    state = clear_history(state).replace(
        turn=I32(0), sched_next=state.sched_interval, show=jnp.bool_(False),
        calm=jnp.bool_(False), step_pending=jnp.bool_(False), atk_uses=I32(0),
    )
    exit_i, count = rng.generation_header(key)

    # 1. Exit among the corners other than the player's, in corner order; the rest are pickups.
    corners = jnp.asarray(_CORNERS)
    is_player = (corners[:, 0] == state.player.row) & (corners[:, 1] == state.player.col)
    others = jnp.argsort(is_player, stable=True)[:3]
    exit_row, exit_col = corners[others[exit_i], 0], corners[others[exit_i], 1]
    pickup = jnp.arange(3) != exit_i
    content = jnp.full((GRID, GRID), EMPTY, I32)
    content = content.at[corners[others, 0], corners[others, 1]].set(
        jnp.where(pickup, PICKUP, EXIT)
    )

    # 2. Blocks on non-corner cells free of enemies and transmissions.
    free = (
        ~jnp.asarray(_CORNER_CELLS).reshape(GRID, GRID)
        & ~occupancy(state.enemies)
        & ~occupancy(state.transmissions)
    )
    exit_cell = cell_mask(exit_row, exit_col)
    block, kind, points, program, spawn = _generate_blocks(key, count, free, exit_cell)
    shape = (GRID, GRID)
    block = block.reshape(shape)
    content = jnp.where(block, BLOCK, content)

    # 3. Resources on every EMPTY or PICKUP cell (the player's, enemies' and pickups' included).
    u, credits_bit = rng.resource_draws(key)
    amount = jnp.where(u < 0.45, 1, jnp.where(u < 0.90, 2, 3)).astype(I32)
    holds = (content == EMPTY) | (content == PICKUP)
    grid = empty_grid().replace(
        content=content, block_kind=kind.reshape(shape), block_points=points.reshape(shape),
        block_program=program.reshape(shape), block_spawn=spawn.reshape(shape),
        credits=jnp.where(holds & credits_bit, amount, 0),
        energy=jnp.where(holds & ~credits_bit, amount, 0),
    )
    state = state.replace(grid=grid, exit_row=exit_row, exit_col=exit_col)

    # 4. `stage` transmissions; the Empty/LoF maps only lose the cells picked along the way.
    empty_bits, lof_bits = spawn_maps(state)

    def spawn(k, carry):
        trans, empty_bits = carry
        return spawn_into(key, trans, empty_bits, lof_bits, rng.SPAWN_STAGE, k, False, False)

    trans, _ = lax.fori_loop(0, state.stage, spawn, (state.transmissions, empty_bits))
    return state.replace(transmissions=trans)


def game_start(key) -> EnvState:
    """The state of rules §2.5 before its stage 1 is generated: corner, starting bonus."""
    corner, bonus = rng.reset_draws(key)
    corners = jnp.asarray(_CORNERS)
    player = initial_player().replace(
        row=corners[corner, 0], col=corners[corner, 1],
        credits=jnp.where(bonus == 0, BONUS_CREDITS, 0).astype(I32),
        energy=jnp.where(bonus == 1, BONUS_ENERGY, 0).astype(I32),
        data_siphons=jnp.where(bonus == 2, BONUS_SIPHONS, 0).astype(I32),
    )
    return blank_state().replace(
        player=player, stage=I32(1), sched_interval=I32(INITIAL_SCHED_INTERVAL)
    )


def new_game(key) -> EnvState:
    """Reset of rules §2.5: corner, starting bonus, stage 1 with sched_interval 12, generated."""
    return generate_stage(key, game_start(key))
