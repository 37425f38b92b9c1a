"""Direction actions 0..3: line-of-sight attack or a one-cell move (rules §4.2).

Written for vmap on CPU, where every gather, scatter and [ray x slot] comparison is a kernel of
its own: the scan reads occupancy and block bitboards along the ray with scalar bit tests, each
target is found by one reduction of a packed (slot, flags) record, and the single removal
shifts the list instead of scattering it.
"""

import jax.numpy as jnp

from hackmatrix.env.bfs import cell_mask, has_cell, pack
from hackmatrix.env.constants import BLOCK, DIR_OFFSETS, EMPTY, EXIT, GRID, PICKUP
from hackmatrix.env.entities import at_cell, hit_enemies, occupied_bits, remove_one
from hackmatrix.env.movement import pick
from hackmatrix.env.state import EnvState

I32 = jnp.int32
_NONE = 1 << 30  # above every packed record: no entity found


def _first_record(entities, row, col, flags):
    """Return slot << 2 | flags of the first live entity on (row, col) (list order), else _NONE."""
    slots = jnp.arange(entities.row.shape[0], dtype=I32)
    return jnp.where(at_cell(entities, row, col), (slots << 2) | flags, _NONE).min()


def direction_action(state: EnvState, direction):
    """Attack the first target along `direction` (0..3 = U, D, L, R) or move one cell.

    Returns (state, kills int32, picked bool, exit_reached bool).
    """
    player = state.player
    grid = state.grid
    dr = pick([d[0] for d in DIR_OFFSETS], direction)
    dc = pick([d[1] for d in DIR_OFFSETS], direction)
    trans, enemies = state.transmissions, state.enemies
    t_occ = occupied_bits(trans)
    e_occ = occupied_bits(enemies)
    blocks = pack(grid.content == BLOCK)

    # From any cell at most 5 cells lie ahead on the board, so the ray never needs a 6th cell.
    # One min-reduction finds the nearest stopping cell with what stops there; its result is
    # materialized, so the list updates below do not recompute the scan per slot.
    steps = jnp.arange(1, GRID, dtype=I32)
    rows, cols = player.row + dr * steps, player.col + dc * steps
    has_t = has_cell(*t_occ, rows, cols)
    has_e = has_cell(*e_occ, rows, cols)
    in_bounds = (rows >= 0) & (rows < GRID) & (cols >= 0) & (cols < GRID)
    # Occupants are checked before the block, so an enemy on a block is still a target.
    stop = ~in_bounds | has_t | has_e | has_cell(*blocks, rows, cols)
    code = jnp.where(stop, (steps << 2) | (has_t.astype(I32) << 1) | has_e.astype(I32),
                     _NONE).min()
    # Nothing stops: no target (a move); the "cell" is then off the board and holds nothing.
    found = code != _NONE
    target_row = jnp.where(found, player.row + dr * (code >> 2), -1)
    target_col = jnp.where(found, player.col + dc * (code >> 2), -1)
    target_t = found & (((code >> 1) & 1) == 1)
    target_e = found & ~target_t & ((code & 1) == 1)

    t_first = _first_record(trans, target_row, target_col, trans.from_scheduled.astype(I32))
    t_kills = (target_t & ((t_first & 1) == 0)).astype(I32)
    trans = remove_one(trans, t_first >> 2, target_t)

    # A hit kills when hp <= attack (hp - attack clamps at 0).
    e_first = _first_record(
        enemies, target_row, target_col,
        enemies.from_scheduled.astype(I32) | ((enemies.hp <= player.attack).astype(I32) << 1))
    e_slot = e_first >> 2
    enemies = hit_enemies(
        enemies, target_e & (jnp.arange(enemies.row.shape[0]) == e_slot), player.attack)
    e_dead = target_e & (((e_first >> 1) & 1) == 1)
    e_kills = (e_dead & ((e_first & 1) == 0)).astype(I32)
    enemies = remove_one(enemies, e_slot, e_dead)

    moves = ~target_t & ~target_e
    new_row = player.row + dr
    new_col = player.col + dc
    # The mask guarantees an enterable cell; the clamped read only keeps other actions' dummy
    # direction evaluation well-defined.
    read = cell_mask(jnp.clip(new_row, 0, GRID - 1), jnp.clip(new_col, 0, GRID - 1))
    cell = jnp.where(read, grid.content, 0).sum()
    picked = moves & (cell == PICKUP)
    exit_reached = moves & (cell == EXIT)
    content = jnp.where(cell_mask(new_row, new_col) & picked, EMPTY, grid.content)

    player = player.replace(
        row=jnp.where(moves, new_row, player.row),
        col=jnp.where(moves, new_col, player.col),
        data_siphons=player.data_siphons + picked.astype(I32),
    )
    state = state.replace(
        player=player, enemies=enemies, transmissions=trans, grid=grid.replace(content=content)
    )
    return state, t_kills + e_kills, picked, exit_reached
