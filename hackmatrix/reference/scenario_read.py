"""Reading and validating a scenario mapping into a reference State (docs/scenarios.md)."""

import numbers

from hackmatrix.env.constants import (
    BLOCK,
    CORNERS,
    EMPTY,
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
    MAX_HP,
    MAX_TRANSMISSIONS,
    NUM_STAGES,
    PICKUP,
    PROGRAM_NAMES,
    PROGRAM_SPAWN,
)
from hackmatrix.errors import ScenarioError
from hackmatrix.reference.model import (
    Enemy,
    Player,
    Snapshot,
    State,
    Transmission,
    fresh_grid,
)

_TOP_KEYS = ("stage", "turn", "exit", "player", "owned", "flags", "schedule", "pending_spawns",
             "won", "done", "enemies", "transmissions", "blocks", "resources", "pickups",
             "siphoned", "siphon_centers", "undo")
_UNDO_KEYS = ("player", "owned", "turn", "flags", "enemies", "transmissions", "blocks",
              "resources", "pickups", "siphoned", "siphon_centers")
# The JAX engine stores every field as int32; both engines refuse larger values alike.
INT32_MAX = 2**31 - 1
_PLAYER_DEFAULTS = {"row": 0, "col": 0, "hp": MAX_HP, "credits": 0, "energy": 0,
                    "data_siphons": 0, "attack": 1, "score": 0}


def _mapping(value, path: str, allowed) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ScenarioError(f"{path or 'scenario'}: expected a mapping, got {value!r}")
    unknown = [k for k in value if k not in allowed]
    if unknown:
        where = f"{path}.{unknown[0]}" if path else str(unknown[0])
        raise ScenarioError(f"{where}: unknown key (allowed: {', '.join(allowed)})")
    return value


def _list(value, path: str) -> list:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ScenarioError(f"{path}: expected a list, got {value!r}")
    return list(value)


def _int(m: dict, key: str, path: str, default=None, lo=None, hi=INT32_MAX) -> int:
    value = m.get(key, default)
    where = f"{path}.{key}" if path else key
    if value is None:
        raise ScenarioError(f"{where}: required")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ScenarioError(f"{where}: expected an integer, got {value!r}")
    hi = INT32_MAX if hi is None else hi
    if (lo is not None and value < lo) or value > hi:
        raise ScenarioError(f"{where}: {value} out of range [{lo}, {hi}]")
    return int(value)


def _bool(m: dict, key: str, path: str, default: bool = False) -> bool:
    value = m.get(key, default)
    if not isinstance(value, bool):
        where = f"{path}.{key}" if path else key
        raise ScenarioError(f"{where}: expected true/false, got {value!r}")
    return value


def _cell(value, path: str) -> tuple:
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                       for v in value)):
        raise ScenarioError(f"{path}: expected [row, col], got {value!r}")
    if not all(0 <= v < GRID for v in value):
        raise ScenarioError(f"{path}: cell {list(value)} is off the 6x6 board")
    return (int(value[0]), int(value[1]))


def _name(value, names, path: str) -> int:
    if value not in names:
        raise ScenarioError(f"{path}: unknown name {value!r} (one of {', '.join(names)})")
    return names.index(value)


def _position(m: dict, path: str) -> tuple:
    return _cell([_int(m, "row", path), _int(m, "col", path)], path)


def _player(m, path: str) -> Player:
    m = _mapping(m, path, tuple(_PLAYER_DEFAULTS))
    lows = {"hp": 0, "attack": 1}
    highs = {"row": GRID - 1, "col": GRID - 1, "hp": MAX_HP}
    fields = {k: _int(m, k, path, d, lows.get(k, 0), highs.get(k))
              for k, d in _PLAYER_DEFAULTS.items()}
    return Player(**fields)


def _owned(value, path: str) -> list:
    owned = [False] * len(PROGRAM_NAMES)
    for i, name in enumerate(_list(value, path)):
        owned[_name(name, PROGRAM_NAMES, f"{path}[{i}]")] = True
    return owned


def _enemies(value, path: str) -> list:
    entries = _list(value, path)
    if len(entries) > MAX_ENEMIES:
        raise ScenarioError(f"{path}: {len(entries)} enemies exceed the capacity {MAX_ENEMIES}")
    out = []
    keys = ("type", "row", "col", "hp", "disabled", "stunned", "from_scheduled", "from_siphon")
    for i, e in enumerate(entries):
        p = f"{path}[{i}]"
        e = _mapping(e, p, keys)
        etype = _name(e.get("type"), ENEMY_NAMES, f"{p}.type")
        row, col = _position(e, p)
        out.append(Enemy(
            type=etype, row=row, col=col,
            hp=_int(e, "hp", p, ENEMY_MAX_HP[etype], 1, ENEMY_MAX_HP[etype]),
            disabled=_int(e, "disabled", p, 0, 0), stunned=_bool(e, "stunned", p),
            from_scheduled=_bool(e, "from_scheduled", p), from_siphon=_bool(e, "from_siphon", p),
        ))
    return out


def _transmissions(value, path: str) -> list:
    entries = _list(value, path)
    if len(entries) > MAX_TRANSMISSIONS:
        raise ScenarioError(
            f"{path}: {len(entries)} transmissions exceed the capacity {MAX_TRANSMISSIONS}")
    out = []
    keys = ("row", "col", "timer", "enemy_type", "from_scheduled", "from_siphon")
    for i, t in enumerate(entries):
        p = f"{path}[{i}]"
        t = _mapping(t, p, keys)
        row, col = _position(t, p)
        out.append(Transmission(
            row=row, col=col, timer=_int(t, "timer", p, 1, 1),
            enemy_type=_name(t.get("enemy_type"), ENEMY_NAMES, f"{p}.enemy_type"),
            from_scheduled=_bool(t, "from_scheduled", p), from_siphon=_bool(t, "from_siphon", p),
        ))
    return out


def _block(cell, b: dict, p: str) -> None:
    """Fill `cell` from one block entry, checking the kind/payload rules."""
    kind = _name(b.get("kind"), KIND_NAMES[1:], f"{p}.kind") + 1
    has_points = b.get("points") not in (None, 0)
    has_program = b.get("program") is not None
    if kind == KIND_DATA and (has_program or not has_points):
        raise ScenarioError(f"{p}: a data block takes `points` 1..9 and no `program`")
    if kind == KIND_PROGRAM and (has_points or not has_program):
        raise ScenarioError(f"{p}: a program block takes `program` and no `points`")
    if kind == KIND_QUESTION and has_points == has_program:
        raise ScenarioError(f"{p}: a question block takes exactly one of `points` and `program`")
    cell.content, cell.kind = BLOCK, kind
    if has_points:
        cell.points = _int(b, "points", p, None, 1, 9)
        cell.spawn = _int(b, "spawn", p, cell.points, 0, 9)
    else:
        cell.program = _name(b["program"], PROGRAM_NAMES, f"{p}.program")
        spawn_max = PROGRAM_SPAWN[cell.program]
        cell.spawn = _int(b, "spawn", p, spawn_max, 0, spawn_max)
    cell.siphoned = _bool(b, "siphoned", p)
    if kind == KIND_QUESTION and cell.siphoned:
        raise ScenarioError(f"{p}: a question block cannot be siphoned (siphoning reveals it)")


def _grid(m: dict, path: str, exit_cell: tuple) -> list:
    """Build the 36 cells from the cell lists of a scenario (or of its undo snapshot)."""
    pre = f"{path}." if path else ""
    grid = fresh_grid()
    grid[exit_cell[0]][exit_cell[1]].content = EXIT
    for i, value in enumerate(_list(m.get("pickups"), f"{pre}pickups")):
        r, c = _cell(value, f"{pre}pickups[{i}]")
        if (r, c) == exit_cell:
            raise ScenarioError(f"{pre}pickups[{i}]: {[r, c]} is the exit")
        grid[r][c].content = PICKUP
    block_keys = ("row", "col", "kind", "points", "program", "spawn", "siphoned")
    for i, b in enumerate(_list(m.get("blocks"), f"{pre}blocks")):
        p = f"{pre}blocks[{i}]"
        b = _mapping(b, p, block_keys)
        r, c = _position(b, p)
        content = grid[r][c].content
        if content != EMPTY:
            what = {BLOCK: "another block", EXIT: "the exit", PICKUP: "a pickup"}[content]
            raise ScenarioError(f"{p}: cell {[r, c]} already holds {what}")
        _block(grid[r][c], b, p)
    for i, res in enumerate(_list(m.get("resources"), f"{pre}resources")):
        p = f"{pre}resources[{i}]"
        res = _mapping(res, p, ("row", "col", "credits", "energy"))
        r, c = _position(res, p)
        cell = grid[r][c]
        if ("credits" in res) == ("energy" in res):
            raise ScenarioError(f"{p}: give exactly one of `credits` and `energy`")
        if cell.content in (BLOCK, EXIT) or cell.credits or cell.energy:
            raise ScenarioError(f"{p}: no resource allowed on {[r, c]} (block, exit or taken)")
        if "credits" in res:
            cell.credits = _int(res, "credits", p, None, 1, 3)
        else:
            cell.energy = _int(res, "energy", p, None, 1, 3)
    for i, value in enumerate(_list(m.get("siphoned"), f"{pre}siphoned")):
        r, c = _cell(value, f"{pre}siphoned[{i}]")
        if grid[r][c].content == BLOCK:
            raise ScenarioError(f"{pre}siphoned[{i}]: {[r, c]} is a block (use its `siphoned`)")
        grid[r][c].siphoned = True
    for i, value in enumerate(_list(m.get("siphon_centers"), f"{pre}siphon_centers")):
        r, c = _cell(value, f"{pre}siphon_centers[{i}]")
        grid[r][c].siphon_center = True
    return grid


def _snapshot(value, exit_cell: tuple) -> Snapshot:
    m = _mapping(value, "undo", _UNDO_KEYS)
    player = _player(m.get("player"), "undo.player")
    player.owned = _owned(m.get("owned"), "undo.owned")
    flags = _mapping(m.get("flags"), "undo.flags", ("show", "calm", "atk_uses"))
    return Snapshot(
        player=player, turn=_int(m, "turn", "undo", 0, 0),
        enemies=_enemies(m.get("enemies"), "undo.enemies"),
        transmissions=_transmissions(m.get("transmissions"), "undo.transmissions"),
        grid=_grid(m, "undo", exit_cell), show=_bool(flags, "show", "undo.flags"),
        calm=_bool(flags, "calm", "undo.flags"),
        atk_uses=_int(flags, "atk_uses", "undo.flags", 0, 0, 2),
    )


def from_scenario(mapping) -> State:
    """Build a State from a scenario mapping; raise ScenarioError naming the bad field."""
    m = _mapping(mapping, "", _TOP_KEYS)
    exit_cell = _cell(m.get("exit", [5, 5]), "exit")
    if exit_cell not in CORNERS:
        raise ScenarioError(f"exit: {list(exit_cell)} is not a corner")
    player = _player(m.get("player"), "player")
    player.owned = _owned(m.get("owned"), "owned")
    flags = _mapping(m.get("flags"), "flags", ("show", "calm", "step_pending", "atk_uses"))
    schedule = _mapping(m.get("schedule"), "schedule", ("interval", "next"))
    state = State(
        player=player, enemies=_enemies(m.get("enemies"), "enemies"),
        transmissions=_transmissions(m.get("transmissions"), "transmissions"),
        grid=_grid(m, "", exit_cell), stage=_int(m, "stage", "", 1, 1, NUM_STAGES),
        turn=_int(m, "turn", "", 0, 0), exit=exit_cell,
        show=_bool(flags, "show", "flags"), calm=_bool(flags, "calm", "flags"),
        step_pending=_bool(flags, "step_pending", "flags"),
        atk_uses=_int(flags, "atk_uses", "flags", 0, 0, 2),
        sched_interval=_int(schedule, "interval", "schedule", INITIAL_SCHED_INTERVAL, 4),
        sched_next=_int(schedule, "next", "schedule", INITIAL_SCHED_INTERVAL, 0),
        pending_spawns=_int(m, "pending_spawns", "", 0, 0),
        won=_bool(m, "won", ""), done=_bool(m, "done", ""),
    )
    if m.get("undo") is not None:
        state.history = [_snapshot(m["undo"], exit_cell)]
    return state
