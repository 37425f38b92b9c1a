"""Canonical scenario output of the reference engine (docs/scenarios.md)."""

from hackmatrix.env.constants import (
    ENEMY_NAMES,
    GRID,
    KIND_NAMES,
    PICKUP,
    PROGRAM_NAMES,
)
from hackmatrix.reference.model import State


def _player(p) -> dict:
    return {"row": p.row, "col": p.col, "hp": p.hp, "credits": p.credits, "energy": p.energy,
            "data_siphons": p.data_siphons, "attack": p.attack, "score": p.score}


def _owned(p) -> list:
    return [PROGRAM_NAMES[i] for i, o in enumerate(p.owned) if o]


def _enemies(enemies) -> list:
    return [{"type": ENEMY_NAMES[e.type], "row": e.row, "col": e.col, "hp": e.hp,
             "disabled": e.disabled, "stunned": bool(e.stunned),
             "from_scheduled": bool(e.from_scheduled), "from_siphon": bool(e.from_siphon)}
            for e in enemies]


def _transmissions(transmissions) -> list:
    return [{"row": t.row, "col": t.col, "timer": t.timer, "enemy_type": ENEMY_NAMES[t.enemy_type],
             "from_scheduled": bool(t.from_scheduled), "from_siphon": bool(t.from_siphon)}
            for t in transmissions]


def _cells(grid) -> dict:
    """The row-major cell lists: blocks, resources, pickups, siphoned, siphon_centers."""
    out = {"blocks": [], "resources": [], "pickups": [], "siphoned": [], "siphon_centers": []}
    for r in range(GRID):
        for c in range(GRID):
            cell = grid[r][c]
            if cell.is_block:
                out["blocks"].append({
                    "row": r, "col": c, "kind": KIND_NAMES[cell.kind],
                    "points": cell.points if cell.has_data_payload() else 0,
                    "program": (PROGRAM_NAMES[cell.program] if cell.has_program_payload()
                                else None),
                    "spawn": cell.spawn, "siphoned": bool(cell.siphoned),
                })
            elif cell.siphoned:
                out["siphoned"].append([r, c])
            if cell.credits:
                out["resources"].append({"row": r, "col": c, "credits": cell.credits})
            elif cell.energy:
                out["resources"].append({"row": r, "col": c, "energy": cell.energy})
            if cell.content == PICKUP:
                out["pickups"].append([r, c])
            if cell.siphon_center:
                out["siphon_centers"].append([r, c])
    return out


def to_scenario(state: State) -> dict:
    """Return the canonical scenario mapping of `state`."""
    undo = None
    if state.history:
        snap = state.history[-1]
        undo = {
            "player": _player(snap.player), "owned": _owned(snap.player), "turn": snap.turn,
            "flags": {"show": bool(snap.show), "calm": bool(snap.calm),
                      "atk_uses": snap.atk_uses},
            "enemies": _enemies(snap.enemies), "transmissions": _transmissions(snap.transmissions),
            **_cells(snap.grid),
        }
    return {
        "stage": state.stage, "turn": state.turn, "exit": list(state.exit),
        "player": _player(state.player), "owned": _owned(state.player),
        "flags": {"show": bool(state.show), "calm": bool(state.calm),
                  "step_pending": bool(state.step_pending), "atk_uses": state.atk_uses},
        "schedule": {"interval": state.sched_interval, "next": state.sched_next},
        "pending_spawns": state.pending_spawns, "won": bool(state.won), "done": bool(state.done),
        "enemies": _enemies(state.enemies), "transmissions": _transmissions(state.transmissions),
        **_cells(state.grid), "undo": undo,
    }

