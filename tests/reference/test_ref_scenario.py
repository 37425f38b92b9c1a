"""Reference engine: reading and writing scenarios (docs/scenarios.md)."""

import re

import pytest
from refkit import act, enemy, key, make, prog

from hackmatrix.errors import ScenarioError
from hackmatrix.reference import Game

FULL = {
    "stage": 3, "turn": 4, "exit": [0, 5],
    "player": {"row": 2, "col": 1, "hp": 2, "credits": 7, "energy": 3, "data_siphons": 1,
               "attack": 2, "score": 9},
    "owned": ["PUSH", "SIPH+", "ANTI-V"],
    "flags": {"show": True, "calm": False, "step_pending": True, "atk_uses": 1},
    "schedule": {"interval": 8, "next": 11}, "pending_spawns": 2, "won": False, "done": False,
    "enemies": [{"type": "virus", "row": 3, "col": 2, "hp": 1, "disabled": 0, "stunned": True,
                 "from_scheduled": False, "from_siphon": True}],
    "transmissions": [{"row": 1, "col": 4, "timer": 2, "enemy_type": "daemon",
                       "from_scheduled": True, "from_siphon": False}],
    "blocks": [
        {"row": 2, "col": 2, "kind": "data", "points": 5, "program": None, "spawn": 0,
         "siphoned": True},
        {"row": 3, "col": 3, "kind": "program", "points": 0, "program": "WARP", "spawn": 5,
         "siphoned": False},
        {"row": 4, "col": 1, "kind": "question", "points": 3, "program": None, "spawn": 3,
         "siphoned": False},
        {"row": 4, "col": 2, "kind": "question", "points": 0, "program": "SHOW", "spawn": 2,
         "siphoned": False}],
    "resources": [{"row": 0, "col": 0, "energy": 2}, {"row": 0, "col": 3, "credits": 2}],
    "pickups": [[5, 0]], "siphoned": [[2, 1]], "siphon_centers": [[2, 1]],
    "undo": {
        "player": {"row": 2, "col": 0, "hp": 2, "credits": 7, "energy": 3, "data_siphons": 2,
                   "attack": 2, "score": 4},
        "owned": ["PUSH"], "turn": 4, "flags": {"show": False, "calm": False, "atk_uses": 1},
        "enemies": [], "transmissions": [],
        "blocks": [{"row": 2, "col": 2, "kind": "data", "points": 5, "program": None,
                    "spawn": 5, "siphoned": False}],
        "resources": [], "pickups": [[5, 0], [5, 5]], "siphoned": [], "siphon_centers": []},
}


def test_canonical_round_trip():
    assert Game.from_scenario(FULL).to_scenario() == FULL


def test_defaults_fill_every_key():
    out = Game.from_scenario({}).to_scenario()
    assert out["player"] == {"row": 0, "col": 0, "hp": 3, "credits": 0, "energy": 0,
                             "data_siphons": 0, "attack": 1, "score": 0}
    assert (out["exit"], out["schedule"], out["undo"]) == ([5, 5], {"interval": 12, "next": 12},
                                                           None)
    g = make(enemies=[enemy("daemon", 1, 1)],
             blocks=[{"row": 2, "col": 2, "kind": "program", "program": "CALM"}])
    out = g.to_scenario()
    assert out["enemies"][0]["hp"] == 3 and out["blocks"][0]["spawn"] == 6


def test_round_trip_after_play():
    g = Game.new(key(3))
    for seed, action in enumerate([0, 1, 2, 3, 0, 1]):
        if g.action_mask()[action] and not g.done:
            g.step(key(100 + seed), action)
    assert Game.from_scenario(g.to_scenario()).to_scenario() == g.to_scenario()
    g = make(player={"energy": 1, "credits": 2}, owned=["WAIT", "UNDO"],
             enemies=[enemy("virus", 4, 4)])
    act(g, prog("WAIT"))
    assert g.to_scenario()["undo"]["enemies"][0] == enemy(
        "virus", 2, 4, hp=2, disabled=0, stunned=False, from_scheduled=False, from_siphon=False)
    assert Game.from_scenario(g.to_scenario()).to_scenario() == g.to_scenario()


@pytest.mark.parametrize("bad, where", [
    ({"colour": 1}, "colour"),
    ({"stage": 9}, "stage"),
    ({"exit": [2, 2]}, "exit"),
    ({"player": {"hp": 4}}, "player.hp"),
    ({"player": {"row": 6}}, "player.row"),
    ({"owned": ["NUKE"]}, "owned[0]"),
    ({"enemies": [{"type": "worm", "row": 1, "col": 1}]}, "enemies[0].type"),
    ({"enemies": [{"type": "virus", "row": 1, "col": 1, "hp": 3}]}, "enemies[0].hp"),
    ({"transmissions": [{"row": 1, "col": 1, "timer": 0, "enemy_type": "virus"}]},
     "transmissions[0].timer"),
    ({"blocks": [{"row": 1, "col": 1, "kind": "data", "points": 1},
                 {"row": 1, "col": 1, "kind": "data", "points": 2}]}, "blocks[1]"),
    ({"blocks": [{"row": 5, "col": 5, "kind": "data", "points": 1}]}, "blocks[0]"),
    ({"blocks": [{"row": 1, "col": 1, "kind": "question", "points": 1, "program": "WAIT"}]},
     "blocks[0]"),
    ({"blocks": [{"row": 1, "col": 1, "kind": "question", "points": 1, "siphoned": True}]},
     "blocks[0]"),
    ({"blocks": [{"row": 1, "col": 1, "kind": "program", "program": "WAIT", "spawn": 2}]},
     "blocks[0].spawn"),
    ({"resources": [{"row": 5, "col": 5, "credits": 1}]}, "resources[0]"),
    ({"resources": [{"row": 1, "col": 1, "credits": 4}]}, "resources[0].credits"),
    ({"pickups": [[5, 5]]}, "pickups[0]"),
    ({"siphoned": [[7, 0]]}, "siphoned[0]"),
    ({"flags": {"atk_uses": 3}}, "flags.atk_uses"),
    ({"schedule": {"interval": 3}}, "schedule.interval"),
    ({"enemies": [{"type": "virus", "row": 1, "col": 1}] * 37}, "enemies"),
    ({"undo": {"player": {"hp": -1}}}, "undo.player.hp"),
])
def test_errors_name_the_field(bad, where):
    with pytest.raises(ScenarioError) as err:
        Game.from_scenario(bad)
    # The message format of the shared validation (hackmatrix/env/scenario_check.py).
    assert re.match(rf"scenario field {re.escape(where)}[:.\[]", str(err.value)), str(err.value)
