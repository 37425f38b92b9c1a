"""The action mask of rules §3 (28 actions)."""

import jax.numpy as jnp
import numpy as np

from hackmatrix.env.constants import BLOCK, DIR_OFFSETS, GRID
from hackmatrix.env.entities import valid_slots
from hackmatrix.env.programs import program_affordable, program_applicable
from hackmatrix.env.state import EnvState

_OFFSETS = np.array(DIR_OFFSETS, np.int32)


def direction_mask(state: EnvState) -> jnp.ndarray:
    """Return bool[4]: the adjacent cell is on the board and is not a block or holds an enemy."""
    rows = state.player.row + _OFFSETS[:, 0]
    cols = state.player.col + _OFFSETS[:, 1]
    in_bounds = (rows >= 0) & (rows < GRID) & (cols >= 0) & (cols < GRID)
    block = state.grid.content[jnp.clip(rows, 0, GRID - 1), jnp.clip(cols, 0, GRID - 1)] == BLOCK
    e = state.enemies
    # Only enemies validate a block cell; a transmission on a block does not (rules §3).
    enemy_on = (
        valid_slots(e)[None, :]
        & (e.row[None, :] == rows[:, None])
        & (e.col[None, :] == cols[:, None])
    ).any(axis=1)
    return in_bounds & (~block | enemy_on)


def action_mask(state: EnvState) -> jnp.ndarray:
    """Return bool[28]: directions, SIPHON (data_siphons > 0), programs (owned, paid, usable)."""
    programs = state.player.owned & program_affordable(state) & program_applicable(state)
    siphon = (state.player.data_siphons > 0)[None]
    return jnp.concatenate([direction_mask(state), siphon, programs])
