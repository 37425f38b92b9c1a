"""Scenario plain data <-> EnvState (docs/scenarios.md); host-side code, never jitted.

Reading validates with `check_scenario` (scenario_check.py), the one validation that the
reference engine shares, then fills arrays from its canonical output; `owned` is written in
program index order.
"""

import jax
import jax.numpy as jnp
import numpy as np

from hackmatrix.env.constants import (
    BLOCK,
    ENEMY_NAMES,
    EXIT,
    GRID,
    KIND_DATA,
    KIND_NAMES,
    KIND_PROGRAM,
    KIND_QUESTION,
    MAX_ENEMIES,
    MAX_TRANSMISSIONS,
    NUM_PROGRAMS,
    PICKUP,
    PROGRAM_NAMES,
)
from hackmatrix.env.scenario_check import PLAYER_DEFAULTS, check_scenario, read_scenario_file
from hackmatrix.env.state import (
    Enemies,
    EnvState,
    Grid,
    Player,
    Snapshot,
    Transmissions,
    empty_snapshot,
)

_KINDS = {"data": KIND_DATA, "program": KIND_PROGRAM, "question": KIND_QUESTION}
_ENEMY_INTS = ("row", "col", "hp", "disabled")
_ENEMY_BOOLS = ("stunned", "from_scheduled", "from_siphon")
_TRANSMISSION_INTS = ("row", "col", "timer")
_TRANSMISSION_BOOLS = ("from_scheduled", "from_siphon")


def _player(fields: dict, owned_names: list) -> Player:
    owned = np.zeros(NUM_PROGRAMS, bool)
    owned[[PROGRAM_NAMES.index(n) for n in owned_names]] = True
    return Player(**{k: jnp.int32(fields[k]) for k in PLAYER_DEFAULTS},
                  owned=jnp.asarray(owned))


def _columns(entries, capacity, ints, bools, name_key) -> dict:
    """Fixed-capacity arrays of a list of canonical entries (`name_key` is an enemy type)."""
    cols = {k: np.zeros(capacity, np.int32) for k in (*ints, name_key)}
    cols |= {k: np.zeros(capacity, bool) for k in bools}
    for i, entry in enumerate(entries):
        for k in (*ints, *bools):
            cols[k][i] = entry[k]
        cols[name_key][i] = ENEMY_NAMES.index(entry[name_key])
    return {k: jnp.asarray(v) for k, v in cols.items()} | {"count": jnp.int32(len(entries))}


def _enemies(entries) -> Enemies:
    return Enemies(**_columns(entries, MAX_ENEMIES, _ENEMY_INTS, _ENEMY_BOOLS, "type"))


def _transmissions(entries) -> Transmissions:
    return Transmissions(**_columns(entries, MAX_TRANSMISSIONS, _TRANSMISSION_INTS,
                                    _TRANSMISSION_BOOLS, "enemy_type"))


def _grid(data: dict, exit_cell: tuple) -> Grid:
    shape = (GRID, GRID)
    g = {k: np.zeros(shape, np.int32) for k in ("content", "block_kind", "block_points",
                                                 "block_spawn", "credits", "energy")}
    g["block_program"] = np.full(shape, -1, np.int32)
    g["siphoned"] = np.zeros(shape, bool)
    g["siphon_center"] = np.zeros(shape, bool)
    g["content"][exit_cell] = EXIT
    for b in data["blocks"]:
        cell = (b["row"], b["col"])
        g["content"][cell] = BLOCK
        g["block_kind"][cell] = _KINDS[b["kind"]]
        g["block_points"][cell] = b["points"]
        g["block_spawn"][cell] = b["spawn"]
        g["siphoned"][cell] = b["siphoned"]
        if b["program"] is not None:
            g["block_program"][cell] = PROGRAM_NAMES.index(b["program"])
    for res in data["resources"]:
        for kind in ("credits", "energy"):
            if kind in res:
                g[kind][res["row"], res["col"]] = res[kind]
    for r, c in data["pickups"]:
        g["content"][r, c] = PICKUP
    for r, c in data["siphoned"]:
        g["siphoned"][r, c] = True
    for r, c in data["siphon_centers"]:
        g["siphon_center"][r, c] = True
    return Grid(**{k: jnp.asarray(v) for k, v in g.items()})


def _undo(u, exit_cell: tuple) -> Snapshot:
    if u is None:
        return empty_snapshot()
    return Snapshot(
        valid=jnp.bool_(True), player=_player(u["player"], u["owned"]),
        turn=jnp.int32(u["turn"]), enemies=_enemies(u["enemies"]),
        transmissions=_transmissions(u["transmissions"]), grid=_grid(u, exit_cell),
        show=jnp.bool_(u["flags"]["show"]), calm=jnp.bool_(u["flags"]["calm"]),
        atk_uses=jnp.int32(u["flags"]["atk_uses"]),
    )


def state_from_scenario(mapping) -> EnvState:
    """Build an EnvState from scenario plain data; raise ScenarioError on any bad input."""
    s = check_scenario(mapping)
    exit_cell = tuple(s["exit"])
    flags, sched = s["flags"], s["schedule"]
    return EnvState(
        player=_player(s["player"], s["owned"]), enemies=_enemies(s["enemies"]),
        transmissions=_transmissions(s["transmissions"]), grid=_grid(s, exit_cell),
        stage=jnp.int32(s["stage"]), turn=jnp.int32(s["turn"]),
        exit_row=jnp.int32(exit_cell[0]), exit_col=jnp.int32(exit_cell[1]),
        show=jnp.bool_(flags["show"]), calm=jnp.bool_(flags["calm"]),
        step_pending=jnp.bool_(flags["step_pending"]), atk_uses=jnp.int32(flags["atk_uses"]),
        sched_interval=jnp.int32(sched["interval"]), sched_next=jnp.int32(sched["next"]),
        pending_spawns=jnp.int32(s["pending_spawns"]), won=jnp.bool_(s["won"]),
        done=jnp.bool_(s["done"]), undo=_undo(s["undo"], exit_cell),
    )


def load_scenario(path) -> EnvState:
    """Read a YAML (or .json) scenario file and build its EnvState."""
    return state_from_scenario(read_scenario_file(path))


def _owned_out(owned):
    return [PROGRAM_NAMES[i] for i in np.flatnonzero(owned)]


def _player_out(player):
    return {k: int(getattr(player, k)) for k in PLAYER_DEFAULTS}


def _enemies_out(e):
    return [{"type": ENEMY_NAMES[int(e.type[i])], "row": int(e.row[i]), "col": int(e.col[i]),
             "hp": int(e.hp[i]), "disabled": int(e.disabled[i]), "stunned": bool(e.stunned[i]),
             "from_scheduled": bool(e.from_scheduled[i]), "from_siphon": bool(e.from_siphon[i])}
            for i in range(int(e.count))]


def _transmissions_out(t):
    return [{"row": int(t.row[i]), "col": int(t.col[i]), "timer": int(t.timer[i]),
             "enemy_type": ENEMY_NAMES[int(t.enemy_type[i])],
             "from_scheduled": bool(t.from_scheduled[i]), "from_siphon": bool(t.from_siphon[i])}
            for i in range(int(t.count))]


def _cells(mask):
    return [[int(r), int(c)] for r, c in zip(*np.nonzero(mask))]


def _grid_out(g):
    is_block = g.content == BLOCK
    blocks = []
    for r, c in _cells(is_block):
        program = int(g.block_program[r, c])
        blocks.append({
            "row": r, "col": c, "kind": KIND_NAMES[int(g.block_kind[r, c])],
            "points": int(g.block_points[r, c]),
            "program": PROGRAM_NAMES[program] if program >= 0 else None,
            "spawn": int(g.block_spawn[r, c]), "siphoned": bool(g.siphoned[r, c]),
        })
    resources = []
    for r, c in _cells((g.credits > 0) | (g.energy > 0)):
        for kind in ("credits", "energy"):
            amount = int(getattr(g, kind)[r, c])
            if amount:
                resources.append({"row": r, "col": c, kind: amount})
    return {
        "blocks": blocks, "resources": resources, "pickups": _cells(g.content == PICKUP),
        "siphoned": _cells(g.siphoned & ~is_block), "siphon_centers": _cells(g.siphon_center),
    }


def _undo_out(u):
    if not bool(u.valid):
        return None
    return {"player": _player_out(u.player), "owned": _owned_out(u.player.owned),
            "turn": int(u.turn),
            "flags": {"show": bool(u.show), "calm": bool(u.calm), "atk_uses": int(u.atk_uses)},
            "enemies": _enemies_out(u.enemies),
            "transmissions": _transmissions_out(u.transmissions), **_grid_out(u.grid)}


def scenario_from_state(state: EnvState) -> dict:
    """Return the canonical scenario plain data of one (unbatched) EnvState."""
    s = jax.tree.map(np.asarray, jax.device_get(state))
    return {
        "stage": int(s.stage), "turn": int(s.turn), "exit": [int(s.exit_row), int(s.exit_col)],
        "player": _player_out(s.player), "owned": _owned_out(s.player.owned),
        "flags": {"show": bool(s.show), "calm": bool(s.calm),
                  "step_pending": bool(s.step_pending), "atk_uses": int(s.atk_uses)},
        "schedule": {"interval": int(s.sched_interval), "next": int(s.sched_next)},
        "pending_spawns": int(s.pending_spawns), "won": bool(s.won), "done": bool(s.done),
        "enemies": _enemies_out(s.enemies), "transmissions": _transmissions_out(s.transmissions),
        **_grid_out(s.grid), "undo": _undo_out(s.undo),
    }
