"""The 1545-float observation of rules §9."""

import numpy as np

from hackmatrix.env.constants import (
    CRYPTOG,
    EXIT,
    GRID,
    GRID_CHANNELS,
    KIND_DATA,
    KIND_PROGRAM,
    NUM_PROGRAMS,
    NUM_STAGES,
    OBS_PLAYER,
    OBS_SIZE,
    PICKUP,
)
from hackmatrix.reference.model import State

F32 = np.float32


def _ratio(x, d) -> np.float32:
    # float32 division, as the JAX engine computes it.
    return F32(x) / F32(d)


def observe(state: State) -> np.ndarray:
    """Return player(10) ++ programs(23) ++ grid(6*6*42) as float32[1545]."""
    p = state.player
    obs = np.zeros(OBS_SIZE, dtype=np.float32)
    obs[:OBS_PLAYER] = [
        _ratio(p.row, 5), _ratio(p.col, 5), _ratio(p.hp, 3),
        min(_ratio(p.credits, 50), F32(1)), min(_ratio(p.energy, 50), F32(1)),
        _ratio(state.stage - 1, NUM_STAGES - 1), _ratio(p.data_siphons, 10),
        _ratio(p.attack - 1, 2), F32(state.show), F32(state.calm),
    ]
    obs[OBS_PLAYER:OBS_PLAYER + NUM_PROGRAMS] = [F32(o) for o in p.owned]
    grid = obs[OBS_PLAYER + NUM_PROGRAMS:].reshape(GRID, GRID, GRID_CHANNELS)
    for r in range(GRID):
        for c in range(GRID):
            _cell_channels(state, (r, c), grid[r, c])
    return obs


def _cell_channels(state: State, pos, ch: np.ndarray) -> None:
    enemies = state.enemies_at(pos)
    if enemies:
        e = enemies[0]
        visible = (e.type != CRYPTOG or state.show or e.row == state.player.row
                   or e.col == state.player.col)
        if visible:
            ch[e.type] = 1
            ch[4] = _ratio(e.hp, 3)
            ch[5] = e.stunned
            ch[6] = e.from_siphon
    cell = state.cell(pos)
    if cell.is_block:
        ch[6 + cell.kind] = 1  # kinds data, program, question -> channels 7, 8, 9
        if cell.kind == KIND_DATA:
            ch[10] = _ratio(cell.points, 9)
        ch[11] = cell.siphoned
        if cell.kind == KIND_PROGRAM:
            ch[12 + cell.program] = 1
        if cell.kind in (KIND_DATA, KIND_PROGRAM):
            ch[35] = _ratio(cell.spawn, 9)
    transmissions = state.transmissions_at(pos)
    if transmissions:
        ch[36] = min(_ratio(transmissions[0].timer, 4), F32(1))
    ch[37] = _ratio(cell.credits, 3)
    ch[38] = _ratio(cell.energy, 3)
    ch[39] = cell.content == PICKUP
    ch[40] = cell.content == EXIT
    ch[41] = cell.siphon_center
