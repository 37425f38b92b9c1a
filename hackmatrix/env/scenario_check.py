"""The one validation of scenario plain data (docs/scenarios.md), shared by both engines.

`check_scenario` turns any mapping into the canonical scenario (every default filled, cells
row-major) or raises a one-line ScenarioError `scenario field <path>: <problem> (got <value>)`.
The JAX reader (`state_from_scenario`) and the reference reader (`Game.from_scenario`, used by
`hackmatrix play`) both build their state from its output only, so they accept and refuse exactly
the same scenarios with the same message. Pure Python: no JAX here.

Choices where docs/scenarios.md is silent: an omitted or null list or mapping is empty (YAML
writes `blocks:` with nothing under it as null) and a null `undo` means no snapshot; enemies need
`type, row, col` and transmissions `row, col, enemy_type` (there is no sensible default position);
repeated cells in pickups / siphoned / siphon_centers are accepted as a set; cells are placed in
the order blocks, resources, pickups, so a later kind names the conflict.
"""

import json
import numbers
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import yaml

from hackmatrix.env.constants import (
    CORNERS,
    ENEMY_MAX_HP,
    ENEMY_NAMES,
    GRID,
    INITIAL_SCHED_INTERVAL,
    MAX_ENEMIES,
    MAX_HP,
    MAX_TRANSMISSIONS,
    NUM_STAGES,
    PROGRAM_NAMES,
    PROGRAM_SPAWN,
)
from hackmatrix.errors import ScenarioError

# The JAX engine stores every field as int32: a larger value is refused by name, never by an
# OverflowError (and the reference engine, with Python ints, refuses it alike).
INT32_MAX = 2**31 - 1
MAX_SHOWN = 80  # characters of a refused value quoted in a message, so that it stays readable

TOP_KEYS = ("stage", "turn", "exit", "player", "owned", "flags", "schedule", "pending_spawns",
            "won", "done", "enemies", "transmissions", "blocks", "resources", "pickups",
            "siphoned", "siphon_centers", "undo")
GRID_KEYS = ("blocks", "resources", "pickups", "siphoned", "siphon_centers")
UNDO_KEYS = ("player", "owned", "turn", "flags", "enemies", "transmissions") + GRID_KEYS
PLAYER_DEFAULTS = {"row": 0, "col": 0, "hp": MAX_HP, "credits": 0, "energy": 0,
                   "data_siphons": 0, "attack": 1, "score": 0}
_PLAYER_MIN = {"attack": 1}
_PLAYER_MAX = {"row": GRID - 1, "col": GRID - 1, "hp": MAX_HP}
_ENEMY_KEYS = ("type", "row", "col", "hp", "disabled", "stunned", "from_scheduled", "from_siphon")
_TRANSMISSION_KEYS = ("row", "col", "timer", "enemy_type", "from_scheduled", "from_siphon")
_BLOCK_KEYS = ("row", "col", "kind", "points", "program", "spawn", "siphoned")
_BLOCK_KINDS = ("data", "program", "question")
_RESOURCE_KEYS = ("row", "col", "credits", "energy")
_FLAGS = ("from_scheduled", "from_siphon")


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 3] + "..."


def _fail(path, problem, value):
    raise ScenarioError(f"scenario field {path or '<root>'}: {problem} (got {_shown(value)})")


def _join(path, key) -> str:
    return f"{path}.{key}" if path else str(key)


def _mapping(value, path, allowed) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        _fail(path, "expected a mapping", value)
    for key in value:
        if key not in allowed:
            _fail(_join(path, key), f"unknown key, expected one of {', '.join(allowed)}", key)
    return value


def _list(value, path) -> list:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        _fail(path, "expected a list", value)
    return list(value)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _int(value, path, lo=0, hi=INT32_MAX) -> int:
    if not _is_int(value):
        _fail(path, f"expected an integer {lo}..{hi}", value)
    if not lo <= value <= hi:
        _fail(path, f"out of range {lo}..{hi}", value)
    return int(value)


def _bool(value, path) -> bool:
    if not isinstance(value, bool | np.bool_):
        _fail(path, "expected true or false", value)
    return bool(value)


def _cell(value, path) -> list:
    if not isinstance(value, list | tuple) or len(value) != 2:
        _fail(path, "expected a cell [row, col]", value)
    return [_int(value[0], f"{path}[0]", 0, GRID - 1), _int(value[1], f"{path}[1]", 0, GRID - 1)]


def _name(value, names, path) -> str:
    if not isinstance(value, str) or value not in names:
        _fail(path, f"unknown name, expected one of {', '.join(names)}", value)
    return value


def _required(entry, key, path):
    if key not in entry:
        _fail(_join(path, key), "missing required key", None)
    return entry[key]


def _position(entry, path) -> tuple:
    return (_int(_required(entry, "row", path), f"{path}.row", 0, GRID - 1),
            _int(_required(entry, "col", path), f"{path}.col", 0, GRID - 1))


def _player(value, path) -> dict:
    entry = _mapping(value, path, tuple(PLAYER_DEFAULTS))
    return {k: _int(entry.get(k, d), f"{path}.{k}", _PLAYER_MIN.get(k, 0),
                    _PLAYER_MAX.get(k, INT32_MAX))
            for k, d in PLAYER_DEFAULTS.items()}


def _owned(value, path) -> list:
    names = {_name(v, PROGRAM_NAMES, f"{path}[{i}]") for i, v in enumerate(_list(value, path))}
    return [n for n in PROGRAM_NAMES if n in names]


def _enemies(value, path) -> list:
    entries = _list(value, path)
    if len(entries) > MAX_ENEMIES:
        _fail(path, f"more enemies than the capacity {MAX_ENEMIES}", len(entries))
    out = []
    for i, raw in enumerate(entries):
        p = f"{path}[{i}]"
        e = _mapping(raw, p, _ENEMY_KEYS)
        etype = _name(_required(e, "type", p), ENEMY_NAMES, f"{p}.type")
        row, col = _position(e, p)
        max_hp = ENEMY_MAX_HP[ENEMY_NAMES.index(etype)]
        out.append({"type": etype, "row": row, "col": col,
                    "hp": _int(e.get("hp", max_hp), f"{p}.hp", 1, max_hp),
                    "disabled": _int(e.get("disabled", 0), f"{p}.disabled"),
                    "stunned": _bool(e.get("stunned", False), f"{p}.stunned"),
                    **{f: _bool(e.get(f, False), f"{p}.{f}") for f in _FLAGS}})
    return out


def _transmissions(value, path) -> list:
    entries = _list(value, path)
    if len(entries) > MAX_TRANSMISSIONS:
        _fail(path, f"more transmissions than the capacity {MAX_TRANSMISSIONS}", len(entries))
    out = []
    for i, raw in enumerate(entries):
        p = f"{path}[{i}]"
        t = _mapping(raw, p, _TRANSMISSION_KEYS)
        row, col = _position(t, p)
        out.append({"row": row, "col": col, "timer": _int(t.get("timer", 1), f"{p}.timer", 1),
                    "enemy_type": _name(_required(t, "enemy_type", p), ENEMY_NAMES,
                                        f"{p}.enemy_type"),
                    **{f: _bool(t.get(f, False), f"{p}.{f}") for f in _FLAGS}})
    return out


def _block(b, p, row, col) -> dict:
    kind = _name(_required(b, "kind", p), _BLOCK_KINDS, f"{p}.kind")
    points, program = b.get("points"), b.get("program")
    # `points: 0` reads as "no points", so a canonical program block (points 0) reads back.
    has_points = points is not None and not (_is_int(points) and points == 0)
    has_program = program is not None
    if kind == "data" and has_program:
        _fail(f"{p}.program", "a data block takes no program", program)
    if kind == "program" and has_points:
        _fail(f"{p}.points", "a program block takes no points", points)
    if kind == "question" and has_points == has_program:
        _fail(p, "a question block takes exactly one of points and program", dict(b))
    if kind == "data" or (kind == "question" and has_points):
        points = _int(points, f"{p}.points", 1, 9)
        spawn, program = _int(b.get("spawn", points), f"{p}.spawn", 0, 9), None
    else:
        program = _name(_required(b, "program", p), PROGRAM_NAMES, f"{p}.program")
        spawn_max = PROGRAM_SPAWN[PROGRAM_NAMES.index(program)]
        spawn, points = _int(b.get("spawn", spawn_max), f"{p}.spawn", 0, spawn_max), 0
    siphoned = _bool(b.get("siphoned", False), f"{p}.siphoned")
    if siphoned and kind == "question":
        _fail(f"{p}.siphoned", "a question block cannot be siphoned (siphoning reveals it)",
              siphoned)
    return {"row": row, "col": col, "kind": kind, "points": points, "program": program,
            "spawn": spawn, "siphoned": siphoned}


def _cell_set(data, key, path) -> list:
    return [_cell(v, f"{path}{key}[{i}]") for i, v in enumerate(_list(data.get(key), path + key))]


def _grid(data, path, exit_cell) -> dict:
    """The canonical cell lists; `path` is "" or "undo." (the prefix of every field named)."""
    blocks, resources = {}, {}
    for i, raw in enumerate(_list(data.get("blocks"), f"{path}blocks")):
        p = f"{path}blocks[{i}]"
        b = _mapping(raw, p, _BLOCK_KEYS)
        cell = _position(b, p)
        if cell == exit_cell:
            _fail(p, "a block on the exit", list(cell))
        if cell in blocks:
            _fail(p, "two blocks on one cell", list(cell))
        blocks[cell] = _block(b, p, *cell)
    for i, raw in enumerate(_list(data.get("resources"), f"{path}resources")):
        p = f"{path}resources[{i}]"
        res = _mapping(raw, p, _RESOURCE_KEYS)
        cell = _position(res, p)
        kinds = [k for k in ("credits", "energy") if k in res]
        if len(kinds) != 1:
            _fail(p, "a resource takes exactly one of credits and energy", dict(res))
        amount = _int(res[kinds[0]], f"{p}.{kinds[0]}", 1, 3)
        if cell in blocks:
            _fail(p, "a resource on a block", list(cell))
        if cell == exit_cell:
            _fail(p, "a resource on the exit", list(cell))
        if cell in resources:
            _fail(p, "two resources on one cell", list(cell))
        resources[cell] = {"row": cell[0], "col": cell[1], kinds[0]: amount}
    pickups = _cell_set(data, "pickups", path)
    for i, cell in enumerate(pickups):
        if tuple(cell) == exit_cell:
            _fail(f"{path}pickups[{i}]", "a pickup on the exit", cell)
        if tuple(cell) in blocks:
            _fail(f"{path}pickups[{i}]", "a pickup on a block", cell)
    siphoned = _cell_set(data, "siphoned", path)
    for i, cell in enumerate(siphoned):
        if tuple(cell) in blocks:
            _fail(f"{path}siphoned[{i}]", "a block cell (a block carries its own siphoned)", cell)
    return {"blocks": [blocks[c] for c in sorted(blocks)],
            "resources": [resources[c] for c in sorted(resources)],
            "pickups": _row_major(pickups), "siphoned": _row_major(siphoned),
            "siphon_centers": _row_major(_cell_set(data, "siphon_centers", path))}


def _row_major(cells) -> list:
    """Each cell once, sorted row-major, as [row, col] lists (the canonical form)."""
    return [list(c) for c in sorted(set(map(tuple, cells)))]


def _undo(value, exit_cell):
    if value is None:
        return None
    u = _mapping(value, "undo", UNDO_KEYS)
    flags = _mapping(u.get("flags"), "undo.flags", ("show", "calm", "atk_uses"))
    return {"player": _player(u.get("player"), "undo.player"),
            "owned": _owned(u.get("owned"), "undo.owned"),
            "turn": _int(u.get("turn", 0), "undo.turn"),
            "flags": {"show": _bool(flags.get("show", False), "undo.flags.show"),
                      "calm": _bool(flags.get("calm", False), "undo.flags.calm"),
                      "atk_uses": _int(flags.get("atk_uses", 0), "undo.flags.atk_uses", 0, 2)},
            "enemies": _enemies(u.get("enemies"), "undo.enemies"),
            "transmissions": _transmissions(u.get("transmissions"), "undo.transmissions"),
            **_grid(u, "undo.", exit_cell)}


def check_scenario(mapping) -> dict:
    """Return the canonical scenario of `mapping`; raise a one-line ScenarioError if malformed."""
    if not isinstance(mapping, Mapping):
        _fail("", "expected a mapping", mapping)
    s = _mapping(mapping, "", TOP_KEYS)
    exit_cell = tuple(_cell(s.get("exit", [5, 5]), "exit"))
    if exit_cell not in CORNERS:
        _fail("exit", "the exit must be a corner", list(exit_cell))
    flags = _mapping(s.get("flags"), "flags", ("show", "calm", "step_pending", "atk_uses"))
    sched = _mapping(s.get("schedule"), "schedule", ("interval", "next"))
    return {
        "stage": _int(s.get("stage", 1), "stage", 1, NUM_STAGES),
        "turn": _int(s.get("turn", 0), "turn"), "exit": list(exit_cell),
        "player": _player(s.get("player"), "player"), "owned": _owned(s.get("owned"), "owned"),
        "flags": {k: _bool(flags.get(k, False), f"flags.{k}")
                  for k in ("show", "calm", "step_pending")}
        | {"atk_uses": _int(flags.get("atk_uses", 0), "flags.atk_uses", 0, 2)},
        "schedule": {"interval": _int(sched.get("interval", INITIAL_SCHED_INTERVAL),
                                      "schedule.interval", 4),
                     "next": _int(sched.get("next", INITIAL_SCHED_INTERVAL), "schedule.next")},
        "pending_spawns": _int(s.get("pending_spawns", 0), "pending_spawns"),
        "won": _bool(s.get("won", False), "won"), "done": _bool(s.get("done", False), "done"),
        "enemies": _enemies(s.get("enemies"), "enemies"),
        "transmissions": _transmissions(s.get("transmissions"), "transmissions"),
        **_grid(s, "", exit_cell), "undo": _undo(s.get("undo"), exit_cell),
    }


def read_scenario_file(path) -> dict:
    """Read a YAML (or .json) scenario file and return its canonical scenario (check_scenario)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ScenarioError(f"scenario file {path} is not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise ScenarioError(f"cannot read scenario file {path}: {err.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        # The parsers' messages span lines (YAML quotes the text): join them into one.
        reason = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        raise ScenarioError(f"scenario file {path} is not valid YAML/JSON: {reason}") from None
    return check_scenario({} if data is None else data)
