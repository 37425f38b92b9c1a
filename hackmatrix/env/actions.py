"""Direction actions 0..3: line-of-sight attack or a one-cell move (GAME_RULES.md section 4.2)."""

import jax.numpy as jnp
import numpy as np

from hackmatrix.env.constants import BLOCK, DIR_OFFSETS, EMPTY, EXIT, GRID, PICKUP
from hackmatrix.env.entities import hit_enemies, remove, valid_slots
from hackmatrix.env.state import EnvState

_OFFSETS = np.array(DIR_OFFSETS, np.int32)
# From any cell at most 5 cells lie ahead on the board, so the ray never needs a 6th cell.
_RAY_STEPS = np.arange(1, GRID, dtype=np.int32)


def _ray_hits(entities, rows, cols):
    """Return bool[len(rows), capacity]: live entities on each ray cell."""
    live = valid_slots(entities)
    return (
        live[None, :]
        & (entities.row[None, :] == rows[:, None])
        & (entities.col[None, :] == cols[:, None])
    )


def direction_action(state: EnvState, direction):
    """Attack the first target along `direction` (0..3 = U, D, L, R) or move one cell.

    Returns (state, kills int32, picked bool, exit_reached bool).
    """
    player = state.player
    grid = state.grid
    offset = jnp.asarray(_OFFSETS)[direction]
    rows = player.row + offset[0] * _RAY_STEPS
    cols = player.col + offset[1] * _RAY_STEPS
    in_bounds = (rows >= 0) & (rows < GRID) & (cols >= 0) & (cols < GRID)
    is_block = in_bounds & (
        grid.content[jnp.clip(rows, 0, GRID - 1), jnp.clip(cols, 0, GRID - 1)] == BLOCK
    )
    t_hits = _ray_hits(state.transmissions, rows, cols)
    e_hits = _ray_hits(state.enemies, rows, cols)
    has_t = t_hits.any(axis=1)
    has_e = e_hits.any(axis=1)
    # Occupants are checked before the block, so an enemy on a block is still a target.
    stop = ~in_bounds | has_t | has_e | is_block
    k = jnp.argmax(stop)  # when nothing stops, k == 0 and cell 0 holds no occupant
    target_t = has_t[k]
    target_e = ~target_t & has_e[k]

    trans = state.transmissions
    t_kill = t_hits[k] & (jnp.arange(t_hits.shape[1]) == jnp.argmax(t_hits[k])) & target_t
    t_kills = (t_kill & ~trans.from_scheduled).sum()
    trans = remove(trans, t_kill)

    enemies = state.enemies
    e_target = e_hits[k] & (jnp.arange(e_hits.shape[1]) == jnp.argmax(e_hits[k])) & target_e
    enemies = hit_enemies(enemies, e_target, player.attack)
    e_dead = e_target & (enemies.hp == 0)
    e_kills = (e_dead & ~enemies.from_scheduled).sum()
    enemies = remove(enemies, e_dead)

    moves = ~target_t & ~target_e
    new_row = player.row + offset[0]
    new_col = player.col + offset[1]
    cell = grid.content[jnp.clip(new_row, 0, GRID - 1), jnp.clip(new_col, 0, GRID - 1)]
    picked = moves & (cell == PICKUP)
    exit_reached = moves & (cell == EXIT)
    content = grid.content.at[new_row, new_col].set(jnp.where(picked, EMPTY, cell), mode="drop")

    player = player.replace(
        row=jnp.where(moves, new_row, player.row),
        col=jnp.where(moves, new_col, player.col),
        data_siphons=player.data_siphons + picked.astype(jnp.int32),
    )
    state = state.replace(
        player=player, enemies=enemies, transmissions=trans, grid=grid.replace(content=content)
    )
    kills = (t_kills + e_kills).astype(jnp.int32)
    return state, kills, picked, exit_reached
