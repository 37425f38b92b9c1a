"""SIPHON (action 4): yields, siphon quality and the siphon itself (rules §6).

A yield is (credits int32, energy int32, data int32[10], progs bool[23]): `data` counts the
payload points of the data blocks by value (index = points 1..9, index 0 unused), which is the
sorted multiset of rules §6.1; `progs` is the set of not-owned programs.
"""

import jax.numpy as jnp
import numpy as np

from hackmatrix.env.constants import (
    BLOCK,
    GRID,
    KIND_DATA,
    KIND_PROGRAM,
    KIND_QUESTION,
    NUM_PROGRAMS,
)
from hackmatrix.env.state import EnvState

DATA_SLOTS = 10
_ROWS, _COLS = np.indices((GRID, GRID))


def _neighbour_sum(x):
    """Sum x[6, 6, ...] over the in-bounds orthogonal neighbours of every cell."""
    pad = jnp.pad(x, ((1, 1), (1, 1)) + ((0, 0),) * (x.ndim - 2))
    return pad[2:, 1:-1] + pad[:-2, 1:-1] + pad[1:-1, :-2] + pad[1:-1, 2:]


def _cross_sum(x):
    """Sum x[6, 6, ...] over the in-bounds cross (the cell and its 4 neighbours) of every cell."""
    return x + _neighbour_sum(x)


def cross_mask(row, col) -> jnp.ndarray:
    """Return bool[6, 6]: the in-bounds siphon cross centred on (row, col)."""
    return (jnp.abs(_ROWS - row) + jnp.abs(_COLS - col)) <= 1


def _payload_masks(grid):
    """Return (data, program) bool[6, 6]: unsiphoned blocks by payload kind.

    A block's payload is a program exactly when `block_program >= 0` (PROGRAM blocks and
    QUESTION-program blocks); otherwise it is data (DATA and QUESTION-data blocks).
    """
    payload = (grid.content == BLOCK) & ~grid.siphoned
    return payload & (grid.block_program < 0), payload & (grid.block_program >= 0)


def siphon_yields(state: EnvState):
    """Return the rules §6.1 yield of every cell: credits, energy, data[6,6,10], progs[6,6,23]."""
    grid = state.grid
    block = grid.content == BLOCK
    resource = ~block & ~grid.siphoned
    data, prog = _payload_masks(grid)
    data_hot = (jnp.arange(DATA_SLOTS) == grid.block_points[..., None]) & data[..., None]
    prog_hot = (
        (jnp.arange(NUM_PROGRAMS) == grid.block_program[..., None])
        & prog[..., None]
        & ~state.player.owned
    )
    open_cell = ~block
    credits = jnp.where(open_cell, _cross_sum(jnp.where(resource, grid.credits, 0)), 0)
    energy = jnp.where(open_cell, _cross_sum(jnp.where(resource, grid.energy, 0)), 0)
    data_counts = jnp.where(open_cell[..., None], _cross_sum(data_hot.astype(jnp.int32)), 0)
    progs = open_cell[..., None] & (_cross_sum(prog_hot.astype(jnp.int32)) > 0)
    return credits, energy, data_counts, progs


def siphon_yield(state: EnvState, row, col):
    """Return the rules §6.1 yield (credits, energy, data[10], progs[23]) of cell (row, col)."""
    credits, energy, data, progs = siphon_yields(state)
    return credits[row, col], energy[row, col], data[row, col], progs[row, col]


def siphon_quality(state: EnvState):
    """Return (found, missed_credits, missed_energy) of rules §6.2, on the pre-siphon state."""
    grid = state.grid
    row, col = state.player.row, state.player.col
    credits, energy, data, progs = siphon_yields(state)
    y_credits, y_energy = credits[row, col], energy[row, col]
    y_data, y_progs = data[row, col], progs[row, col]
    block = grid.content == BLOCK
    wanted = cross_mask(row, col) & block & ~grid.siphoned
    # P touches every wanted block iff the number of wanted blocks next to P is their total.
    touches_all = _neighbour_sum(wanted.astype(jnp.int32)) == wanted.sum()
    has_payload = y_data.any() | y_progs.any()
    candidates = ~block & (touches_all | ~has_payload)
    better = (
        candidates
        & (data == y_data).all(axis=-1)
        & (progs == y_progs).all(axis=-1)
        & (credits >= y_credits)
        & (energy >= y_energy)
        & ((credits > y_credits) | (energy > y_energy))
    )
    missed_credits = jnp.where(better, credits - y_credits, 0).max().astype(jnp.int32)
    missed_energy = jnp.where(better, energy - y_energy, 0).max().astype(jnp.int32)
    return better.any(), missed_credits, missed_energy


def apply_siphon(state: EnvState) -> EnvState:
    """Siphon the player's cross (rules §6); the enemy turn that follows is not run here."""
    grid = state.grid
    player = state.player
    cross = cross_mask(player.row, player.col)
    fresh = cross & ~grid.siphoned
    block = grid.content == BLOCK
    payload = fresh & block
    resource = fresh & ~block
    data, prog = _payload_masks(grid)
    data = data & cross
    prog = prog & cross
    gained = ((jnp.arange(NUM_PROGRAMS) == grid.block_program[..., None]) & prog[..., None]).any(
        axis=(0, 1)
    )
    revealed = jnp.where(grid.block_program >= 0, KIND_PROGRAM, KIND_DATA)
    new_grid = grid.replace(
        block_kind=jnp.where(
            payload & (grid.block_kind == KIND_QUESTION), revealed, grid.block_kind
        ),
        block_spawn=jnp.where(payload, 0, grid.block_spawn),
        credits=jnp.where(resource, 0, grid.credits),
        energy=jnp.where(resource, 0, grid.energy),
        siphoned=grid.siphoned | cross,
        siphon_center=grid.siphon_center.at[player.row, player.col].set(True),
    )
    new_player = player.replace(
        score=player.score + jnp.where(data, grid.block_points, 0).sum(),
        owned=player.owned | gained,
        credits=player.credits + jnp.where(resource, grid.credits, 0).sum(),
        energy=player.energy + jnp.where(resource, grid.energy, 0).sum(),
        data_siphons=player.data_siphons - 1,
    )
    return state.replace(
        player=new_player,
        grid=new_grid,
        pending_spawns=state.pending_spawns + jnp.where(payload, grid.block_spawn, 0).sum(),
        sched_interval=jnp.maximum(4, state.sched_interval - 1),
        sched_next=state.sched_next + 5,
    )
