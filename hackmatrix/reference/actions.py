"""The action mask and the direction action (rules §3, §4.2)."""

from dataclasses import dataclass

from hackmatrix.env.constants import (
    DIR_OFFSETS,
    EMPTY,
    EXIT,
    NUM_DIRECTIONS,
    NUM_PROGRAMS,
    PICKUP,
)
from hackmatrix.reference.geometry import add, in_bounds
from hackmatrix.reference.model import State
from hackmatrix.reference.programs import program_usable


def action_mask(state: State) -> list:
    """The 28-entry mask of rules §3."""
    mask = []
    for offset in DIR_OFFSETS:
        n = add(state.player.cell, offset)
        mask.append(in_bounds(n) and (not state.cell(n).is_block or bool(state.enemies_at(n))))
    mask.append(state.player.data_siphons > 0)
    mask.extend(program_usable(state, i) for i in range(NUM_PROGRAMS))
    return [bool(m) for m in mask]


@dataclass
class DirectionOutcome:
    """What a direction action did: kills made, pickup collected, exit reached."""

    kills: int = 0
    picked: bool = False
    exit_reached: bool = False


def direction_action(state: State, action: int) -> DirectionOutcome:
    """Attack the first target along the line, or move one cell (rules §4.2)."""
    assert 0 <= action < NUM_DIRECTIONS
    offset = DIR_OFFSETS[action]
    out = DirectionOutcome()
    x = add(state.player.cell, offset)
    while in_bounds(x):
        transmissions = state.transmissions_at(x)
        if transmissions:
            t = transmissions[0]
            state.transmissions = [o for o in state.transmissions if o is not t]
            out.kills = 0 if t.from_scheduled else 1
            return out
        enemies = state.enemies_at(x)
        if enemies:
            e = enemies[0]
            e.hp = max(0, e.hp - state.player.attack)
            if e.hp > 0:
                e.stunned = True
            else:
                state.enemies = [o for o in state.enemies if o is not e]
                out.kills = 0 if e.from_scheduled else 1
            return out
        if state.cell(x).is_block:
            break
        x = add(x, offset)
    n = add(state.player.cell, offset)
    state.player.row, state.player.col = n
    cell = state.cell(n)
    if cell.content == PICKUP:
        state.player.data_siphons += 1
        cell.content = EMPTY
        out.picked = True
    if cell.content == EXIT:
        out.exit_reached = True
    return out
