"""The 1545-float observation of rules §9, laid out as constants.OBS_LAYOUT describes."""

import numpy as np

from hackmatrix.env.constants import (
    CRYPTOG,
    ENEMY_MAX_HP,
    EXIT,
    GRID,
    KIND_DATA,
    KIND_PROGRAM,
    MAX_HP,
    NUM_STAGES,
    OBS_LAYOUT,
    PICKUP,
)
from hackmatrix.reference.model import State

F32 = np.float32


def _ratio(x, d) -> np.float32:
    # float32 division, as the JAX engine computes it.
    return F32(x) / F32(d)


def observe(state: State) -> np.ndarray:
    """Return the flat float32[1545] observation laid out as OBS_LAYOUT."""
    p = state.player
    obs = np.zeros(OBS_LAYOUT.size, dtype=np.float32)
    player = {
        "row": _ratio(p.row, GRID - 1), "col": _ratio(p.col, GRID - 1), "hp": _ratio(p.hp, MAX_HP),
        "credits": min(_ratio(p.credits, 50), F32(1)), "energy": min(_ratio(p.energy, 50), F32(1)),
        "stage": _ratio(state.stage - 1, NUM_STAGES - 1), "data_siphons": _ratio(p.data_siphons, 10),
        "attack": _ratio(p.attack - 1, 2), "show": F32(state.show), "calm": F32(state.calm),
    }
    obs[OBS_LAYOUT.vector_slice("player")] = [player[k] for k in OBS_LAYOUT.vector[0].labels]
    obs[OBS_LAYOUT.vector_slice("programs")] = [F32(o) for o in p.owned]
    grid = OBS_LAYOUT.split(obs)["grid"]
    for r in range(GRID):
        for c in range(GRID):
            _cell_channels(state, (r, c), grid[r, c])
    return obs


def _first(name: str) -> int:
    """Channel index of the first feature of channel group `name`."""
    return OBS_LAYOUT.channel_slice(name).start


def _cell_channels(state: State, pos, ch: np.ndarray) -> None:
    enemies = state.enemies_at(pos)
    if enemies:
        e = enemies[0]
        visible = (e.type != CRYPTOG or state.show or e.row == state.player.row
                   or e.col == state.player.col)
        if visible:
            ch[_first("enemy_type") + e.type] = 1
            ch[_first("enemy_hp")] = _ratio(e.hp, max(ENEMY_MAX_HP))
            ch[_first("enemy_stunned")] = e.stunned
            ch[_first("enemy_from_siphon")] = e.from_siphon
    cell = state.cell(pos)
    if cell.is_block:
        ch[_first("block_kind") + cell.kind - KIND_DATA] = 1
        if cell.kind == KIND_DATA:
            ch[_first("block_points")] = _ratio(cell.points, 9)
        ch[_first("block_siphoned")] = cell.siphoned
        if cell.kind == KIND_PROGRAM:
            ch[_first("block_program") + cell.program] = 1
        if cell.kind in (KIND_DATA, KIND_PROGRAM):
            ch[_first("block_spawn")] = _ratio(cell.spawn, 9)
    transmissions = state.transmissions_at(pos)
    if transmissions:
        ch[_first("transmission_timer")] = min(_ratio(transmissions[0].timer, 4), F32(1))
    ch[_first("credits")] = _ratio(cell.credits, 3)
    ch[_first("energy")] = _ratio(cell.energy, 3)
    ch[_first("pickup")] = cell.content == PICKUP
    ch[_first("exit")] = cell.content == EXIT
    ch[_first("siphon_center")] = cell.siphon_center
