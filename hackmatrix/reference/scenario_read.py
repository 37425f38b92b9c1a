"""Reading a scenario mapping into a reference State (docs/scenarios.md).

Validation is `check_scenario` (hackmatrix/env/scenario_check.py), the one the JAX engine's
`state_from_scenario` uses too, so both engines accept and refuse the same scenarios with the
same message; this module only fills the reference dataclasses from its canonical output.
"""

from hackmatrix.env.constants import (
    BLOCK,
    ENEMY_NAMES,
    EXIT,
    KIND_NAMES,
    PICKUP,
    PROGRAM_NAMES,
)
from hackmatrix.env.scenario_check import check_scenario
from hackmatrix.reference.model import (
    Enemy,
    Player,
    Snapshot,
    State,
    Transmission,
    fresh_grid,
)


def _player(fields: dict, owned: list) -> Player:
    player = Player(**fields)
    player.owned = [name in owned for name in PROGRAM_NAMES]
    return player


def _enemies(entries: list) -> list:
    return [Enemy(**{**e, "type": ENEMY_NAMES.index(e["type"])}) for e in entries]


def _transmissions(entries: list) -> list:
    return [Transmission(**{**t, "enemy_type": ENEMY_NAMES.index(t["enemy_type"])})
            for t in entries]


def _grid(data: dict, exit_cell: tuple) -> list:
    """The 36 cells from the canonical cell lists of a scenario (or of its undo snapshot)."""
    grid = fresh_grid()
    grid[exit_cell[0]][exit_cell[1]].content = EXIT
    for b in data["blocks"]:
        cell = grid[b["row"]][b["col"]]
        cell.content, cell.kind = BLOCK, KIND_NAMES.index(b["kind"])
        cell.points, cell.spawn, cell.siphoned = b["points"], b["spawn"], b["siphoned"]
        if b["program"] is not None:
            cell.program = PROGRAM_NAMES.index(b["program"])
    for res in data["resources"]:
        cell = grid[res["row"]][res["col"]]
        cell.credits, cell.energy = res.get("credits", 0), res.get("energy", 0)
    for r, c in data["pickups"]:
        grid[r][c].content = PICKUP
    for r, c in data["siphoned"]:
        grid[r][c].siphoned = True
    for r, c in data["siphon_centers"]:
        grid[r][c].siphon_center = True
    return grid


def _snapshot(u: dict, exit_cell: tuple) -> Snapshot:
    return Snapshot(
        player=_player(u["player"], u["owned"]), turn=u["turn"],
        enemies=_enemies(u["enemies"]), transmissions=_transmissions(u["transmissions"]),
        grid=_grid(u, exit_cell), show=u["flags"]["show"], calm=u["flags"]["calm"],
        atk_uses=u["flags"]["atk_uses"],
    )


def from_scenario(mapping) -> State:
    """Build a State from a scenario mapping; raise ScenarioError naming the bad field."""
    s = check_scenario(mapping)
    exit_cell = tuple(s["exit"])
    flags, schedule = s["flags"], s["schedule"]
    state = State(
        player=_player(s["player"], s["owned"]), enemies=_enemies(s["enemies"]),
        transmissions=_transmissions(s["transmissions"]), grid=_grid(s, exit_cell),
        stage=s["stage"], turn=s["turn"], exit=exit_cell,
        show=flags["show"], calm=flags["calm"], step_pending=flags["step_pending"],
        atk_uses=flags["atk_uses"], sched_interval=schedule["interval"],
        sched_next=schedule["next"], pending_spawns=s["pending_spawns"],
        won=s["won"], done=s["done"],
    )
    if s["undo"] is not None:
        state.history = [_snapshot(s["undo"], exit_cell)]
    return state
