"""Scenario plain data <-> EnvState (docs/scenarios.md); host-side code, never jitted.

Choices where docs/scenarios.md is silent: an omitted `pickups` means no pickups (like
blank_state); enemies need `type, row, col` and transmissions `row, col, enemy_type` (there is no
sensible default position); repeated cells in pickups / siphoned / siphon_centers / owned are
accepted as a set; `owned` is written in program index order.
"""

import json
from collections.abc import Mapping
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import yaml

from hackmatrix.env.constants import (
    BLOCK,
    CORNERS,
    ENEMY_MAX_HP,
    ENEMY_NAMES,
    EXIT,
    GRID,
    INITIAL_SCHED_INTERVAL,
    KIND_DATA,
    KIND_NAMES,
    KIND_PROGRAM,
    KIND_QUESTION,
    MAX_ENEMIES,
    MAX_TRANSMISSIONS,
    NUM_PROGRAMS,
    NUM_STAGES,
    PICKUP,
    PROGRAM_NAMES,
    PROGRAM_SPAWN,
)
from hackmatrix.env.state import (
    Enemies,
    EnvState,
    Grid,
    Player,
    Snapshot,
    Transmissions,
    empty_snapshot,
)
from hackmatrix.errors import ScenarioError

_PLAYER_DEFAULTS = {"row": 0, "col": 0, "hp": 3, "credits": 0, "energy": 0, "data_siphons": 0,
                    "attack": 1, "score": 0}
_PLAYER_MIN = {"row": 0, "col": 0, "hp": 0, "credits": 0, "energy": 0, "data_siphons": 0,
               "attack": 1, "score": 0}
_PLAYER_MAX = {"row": GRID - 1, "col": GRID - 1, "hp": 3}
_STATE_KEYS = ("stage", "turn", "exit", "player", "owned", "flags", "schedule", "pending_spawns",
               "won", "done", "enemies", "transmissions", "blocks", "resources", "pickups",
               "siphoned", "siphon_centers", "undo")
_GRID_KEYS = ("blocks", "resources", "pickups", "siphoned", "siphon_centers")
_UNDO_KEYS = ("player", "owned", "turn", "flags", "enemies", "transmissions") + _GRID_KEYS
_ENEMY_KEYS = ("type", "row", "col", "hp", "disabled", "stunned", "from_scheduled", "from_siphon")
_TRANSMISSION_KEYS = ("row", "col", "timer", "enemy_type", "from_scheduled", "from_siphon")
_BLOCK_KEYS = ("row", "col", "kind", "points", "program", "spawn", "siphoned")
_BLOCK_KINDS = {"data": KIND_DATA, "program": KIND_PROGRAM, "question": KIND_QUESTION}


# Every field is stored as int32; a larger value is refused by name, not by an OverflowError.
INT32_MAX = 2**31 - 1


def _fail(path, problem, value):
    raise ScenarioError(f"scenario field {path or '<root>'}: {problem} (got {value!r})")


def _mapping(value, path, allowed):
    if not isinstance(value, Mapping):
        _fail(path, "expected a mapping", value)
    for key in value:
        if key not in allowed:
            _fail(f"{path}.{key}" if path else str(key), "unknown key", key)
    return value


def _list(value, path):
    if not isinstance(value, list | tuple):
        _fail(path, "expected a list", value)
    return value


def _int(value, path, lo, hi=INT32_MAX):
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        _fail(path, "expected an integer", value)
    hi = INT32_MAX if hi is None else hi
    if value < lo or value > hi:
        _fail(path, f"out of range {lo}..{hi}", value)
    return int(value)


def _bool(value, path):
    if not isinstance(value, bool | np.bool_):
        _fail(path, "expected true or false", value)
    return bool(value)


def _cell(value, path):
    if not isinstance(value, list | tuple) or len(value) != 2:
        _fail(path, "expected a cell [row, col]", value)
    return _int(value[0], f"{path}[0]", 0, GRID - 1), _int(value[1], f"{path}[1]", 0, GRID - 1)


def _name(value, names, path):
    if value not in names:
        _fail(path, f"unknown name, expected one of {list(names)}", value)
    return names.index(value)


def _required(entry, key, path):
    if key not in entry:
        _fail(f"{path}.{key}", "missing required key", None)
    return entry[key]


def _parse_player(value, path):
    entry = _mapping(value, path, tuple(_PLAYER_DEFAULTS))
    fields = {k: _int(entry.get(k, d), f"{path}.{k}", _PLAYER_MIN[k], _PLAYER_MAX.get(k))
              for k, d in _PLAYER_DEFAULTS.items()}
    return fields


def _parse_owned(value, path):
    owned = np.zeros(NUM_PROGRAMS, bool)
    for i, name in enumerate(_list(value, path)):
        owned[_name(name, PROGRAM_NAMES, f"{path}[{i}]")] = True
    return owned


def _player(fields, owned) -> Player:
    return Player(**{k: jnp.int32(v) for k, v in fields.items()}, owned=jnp.asarray(owned))


def _parse_enemies(value, path) -> Enemies:
    entries = _list(value, path)
    if len(entries) > MAX_ENEMIES:
        _fail(path, f"more than the capacity {MAX_ENEMIES} enemies", len(entries))
    cols = {k: np.zeros(MAX_ENEMIES, bool if k in ("stunned", "from_scheduled", "from_siphon")
                        else np.int32) for k in _ENEMY_KEYS}
    for i, raw in enumerate(entries):
        p = f"{path}[{i}]"
        e = _mapping(raw, p, _ENEMY_KEYS)
        etype = _name(_required(e, "type", p), ENEMY_NAMES, f"{p}.type")
        cols["type"][i] = etype
        cols["row"][i] = _int(_required(e, "row", p), f"{p}.row", 0, GRID - 1)
        cols["col"][i] = _int(_required(e, "col", p), f"{p}.col", 0, GRID - 1)
        max_hp = ENEMY_MAX_HP[etype]
        cols["hp"][i] = _int(e.get("hp", max_hp), f"{p}.hp", 1, max_hp)
        cols["disabled"][i] = _int(e.get("disabled", 0), f"{p}.disabled", 0)
        for flag in ("stunned", "from_scheduled", "from_siphon"):
            cols[flag][i] = _bool(e.get(flag, False), f"{p}.{flag}")
    return Enemies(count=jnp.int32(len(entries)), **{k: jnp.asarray(v) for k, v in cols.items()})


def _parse_transmissions(value, path) -> Transmissions:
    entries = _list(value, path)
    if len(entries) > MAX_TRANSMISSIONS:
        _fail(path, f"more than the capacity {MAX_TRANSMISSIONS} transmissions", len(entries))
    cols = {k: np.zeros(MAX_TRANSMISSIONS, bool if k.startswith("from_") else np.int32)
            for k in _TRANSMISSION_KEYS}
    for i, raw in enumerate(entries):
        p = f"{path}[{i}]"
        t = _mapping(raw, p, _TRANSMISSION_KEYS)
        cols["row"][i] = _int(_required(t, "row", p), f"{p}.row", 0, GRID - 1)
        cols["col"][i] = _int(_required(t, "col", p), f"{p}.col", 0, GRID - 1)
        cols["timer"][i] = _int(t.get("timer", 1), f"{p}.timer", 1)
        cols["enemy_type"][i] = _name(_required(t, "enemy_type", p), ENEMY_NAMES,
                                      f"{p}.enemy_type")
        for flag in ("from_scheduled", "from_siphon"):
            cols[flag][i] = _bool(t.get(flag, False), f"{p}.{flag}")
    return Transmissions(count=jnp.int32(len(entries)),
                         **{k: jnp.asarray(v) for k, v in cols.items()})


def _parse_block(b, p, g, exit_cell):
    r = _int(_required(b, "row", p), f"{p}.row", 0, GRID - 1)
    c = _int(_required(b, "col", p), f"{p}.col", 0, GRID - 1)
    if (r, c) == exit_cell:
        _fail(p, "a block on the exit", [r, c])
    if g["content"][r, c] == BLOCK:
        _fail(p, "two blocks on one cell", [r, c])
    kind_name = _required(b, "kind", p)
    _name(kind_name, tuple(_BLOCK_KINDS), f"{p}.kind")
    kind = _BLOCK_KINDS[kind_name]
    points, program = b.get("points"), b.get("program")
    has_points = points is not None and points != 0
    has_program = program is not None
    if kind == KIND_DATA and has_program:
        _fail(f"{p}.program", "a data block takes no program", program)
    if kind == KIND_PROGRAM and has_points:
        _fail(f"{p}.points", "a program block takes no points", points)
    if kind == KIND_QUESTION and has_points == has_program:
        _fail(p, "a question block takes exactly one of points and program", dict(b))
    is_data = kind == KIND_DATA or (kind == KIND_QUESTION and has_points)
    if is_data:
        pts = _int(points, f"{p}.points", 1, 9)
        spawn = _int(b.get("spawn", pts), f"{p}.spawn", 0, 9)
    else:
        q = _name(_required(b, "program", p), PROGRAM_NAMES, f"{p}.program")
        spawn = _int(b.get("spawn", PROGRAM_SPAWN[q]), f"{p}.spawn", 0, PROGRAM_SPAWN[q])
        g["block_program"][r, c] = q
        pts = 0
    siphoned = _bool(b.get("siphoned", False), f"{p}.siphoned")
    if siphoned and kind == KIND_QUESTION:
        _fail(f"{p}.siphoned", "a question block cannot be siphoned", siphoned)
    g["content"][r, c] = BLOCK
    g["block_kind"][r, c] = kind
    g["block_points"][r, c] = pts
    g["block_spawn"][r, c] = spawn
    g["siphoned"][r, c] = siphoned


def _parse_grid(data, path, exit_cell) -> Grid:
    shape = (GRID, GRID)
    g = {k: np.zeros(shape, np.int32) for k in ("content", "block_kind", "block_points",
                                                 "block_spawn", "credits", "energy")}
    g["block_program"] = np.full(shape, -1, np.int32)
    g["siphoned"] = np.zeros(shape, bool)
    g["siphon_center"] = np.zeros(shape, bool)
    g["content"][exit_cell] = EXIT
    blocks_path = f"{path}blocks"
    for i, raw in enumerate(_list(data.get("blocks", []), blocks_path)):
        p = f"{blocks_path}[{i}]"
        _parse_block(_mapping(raw, p, _BLOCK_KEYS), p, g, exit_cell)
    res_path = f"{path}resources"
    for i, raw in enumerate(_list(data.get("resources", []), res_path)):
        p = f"{res_path}[{i}]"
        res = _mapping(raw, p, ("row", "col", "credits", "energy"))
        r = _int(_required(res, "row", p), f"{p}.row", 0, GRID - 1)
        c = _int(_required(res, "col", p), f"{p}.col", 0, GRID - 1)
        kinds = [k for k in ("credits", "energy") if k in res]
        if len(kinds) != 1:
            _fail(p, "a resource takes exactly one of credits and energy", dict(res))
        amount = _int(res[kinds[0]], f"{p}.{kinds[0]}", 1, 3)
        if g["content"][r, c] == BLOCK:
            _fail(p, "a resource on a block", [r, c])
        if (r, c) == exit_cell:
            _fail(p, "a resource on the exit", [r, c])
        if g["credits"][r, c] or g["energy"][r, c]:
            _fail(p, "two resources on one cell", [r, c])
        g[kinds[0]][r, c] = amount
    pick_path = f"{path}pickups"
    for i, raw in enumerate(_list(data.get("pickups", []), pick_path)):
        r, c = _cell(raw, f"{pick_path}[{i}]")
        if (r, c) == exit_cell:
            _fail(f"{pick_path}[{i}]", "a pickup on the exit", [r, c])
        if g["content"][r, c] == BLOCK:
            _fail(f"{pick_path}[{i}]", "a pickup on a block", [r, c])
        g["content"][r, c] = PICKUP
    siph_path = f"{path}siphoned"
    for i, raw in enumerate(_list(data.get("siphoned", []), siph_path)):
        r, c = _cell(raw, f"{siph_path}[{i}]")
        if g["content"][r, c] == BLOCK:
            _fail(f"{siph_path}[{i}]", "a block cell (a block carries its own siphoned)", [r, c])
        g["siphoned"][r, c] = True
    center_path = f"{path}siphon_centers"
    for i, raw in enumerate(_list(data.get("siphon_centers", []), center_path)):
        g["siphon_center"][_cell(raw, f"{center_path}[{i}]")] = True
    return Grid(**{k: jnp.asarray(v) for k, v in g.items()})


def _parse_undo(value, exit_cell) -> Snapshot:
    if value is None:
        return empty_snapshot()
    u = _mapping(value, "undo", _UNDO_KEYS)
    flags = _mapping(u.get("flags", {}), "undo.flags", ("show", "calm", "atk_uses"))
    return Snapshot(
        valid=jnp.bool_(True),
        player=_player(_parse_player(u.get("player", {}), "undo.player"),
                       _parse_owned(u.get("owned", []), "undo.owned")),
        turn=jnp.int32(_int(u.get("turn", 0), "undo.turn", 0)),
        enemies=_parse_enemies(u.get("enemies", []), "undo.enemies"),
        transmissions=_parse_transmissions(u.get("transmissions", []), "undo.transmissions"),
        grid=_parse_grid(u, "undo.", exit_cell),
        show=jnp.bool_(_bool(flags.get("show", False), "undo.flags.show")),
        calm=jnp.bool_(_bool(flags.get("calm", False), "undo.flags.calm")),
        atk_uses=jnp.int32(_int(flags.get("atk_uses", 0), "undo.flags.atk_uses", 0, 2)),
    )


def state_from_scenario(mapping) -> EnvState:
    """Build an EnvState from scenario plain data; raise ScenarioError on any bad input."""
    s = _mapping(mapping, "", _STATE_KEYS)
    exit_cell = _cell(s.get("exit", [5, 5]), "exit")
    if exit_cell not in CORNERS:
        _fail("exit", "the exit must be a corner", list(exit_cell))
    flags = _mapping(s.get("flags", {}), "flags", ("show", "calm", "step_pending", "atk_uses"))
    sched = _mapping(s.get("schedule", {}), "schedule", ("interval", "next"))
    return EnvState(
        player=_player(_parse_player(s.get("player", {}), "player"),
                       _parse_owned(s.get("owned", []), "owned")),
        enemies=_parse_enemies(s.get("enemies", []), "enemies"),
        transmissions=_parse_transmissions(s.get("transmissions", []), "transmissions"),
        grid=_parse_grid(s, "", exit_cell),
        stage=jnp.int32(_int(s.get("stage", 1), "stage", 1, NUM_STAGES)),
        turn=jnp.int32(_int(s.get("turn", 0), "turn", 0)),
        exit_row=jnp.int32(exit_cell[0]), exit_col=jnp.int32(exit_cell[1]),
        show=jnp.bool_(_bool(flags.get("show", False), "flags.show")),
        calm=jnp.bool_(_bool(flags.get("calm", False), "flags.calm")),
        step_pending=jnp.bool_(_bool(flags.get("step_pending", False), "flags.step_pending")),
        atk_uses=jnp.int32(_int(flags.get("atk_uses", 0), "flags.atk_uses", 0, 2)),
        sched_interval=jnp.int32(_int(sched.get("interval", INITIAL_SCHED_INTERVAL),
                                      "schedule.interval", 4)),
        sched_next=jnp.int32(_int(sched.get("next", INITIAL_SCHED_INTERVAL), "schedule.next", 0)),
        pending_spawns=jnp.int32(_int(s.get("pending_spawns", 0), "pending_spawns", 0)),
        won=jnp.bool_(_bool(s.get("won", False), "won")),
        done=jnp.bool_(_bool(s.get("done", False), "done")),
        undo=_parse_undo(s.get("undo"), exit_cell),
    )


def load_scenario(path) -> EnvState:
    """Read a YAML (or .json) scenario file and build its EnvState."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise ScenarioError(f"cannot read scenario file {path}: {err}") from err
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        raise ScenarioError(f"scenario file {path} is not valid YAML/JSON: {err}") from err
    return state_from_scenario({} if data is None else data)


def _owned_out(owned):
    return [PROGRAM_NAMES[i] for i in np.flatnonzero(owned)]


def _player_out(player):
    return {k: int(getattr(player, k)) for k in _PLAYER_DEFAULTS}


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
