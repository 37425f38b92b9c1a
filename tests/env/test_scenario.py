"""Scenario plain data <-> EnvState: defaults, canonical output, round trips and every error case."""

import json
import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import yaml

from hackmatrix.env.constants import BLOCK, EXIT, KIND_DATA, KIND_PROGRAM, KIND_QUESTION, PICKUP
from hackmatrix.env.scenario import load_scenario, scenario_from_state, state_from_scenario
from hackmatrix.env.state import blank_state
from hackmatrix.errors import ScenarioError

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"


def _doc_example():
    text = DOC.read_text()
    return yaml.safe_load(text.split("```yaml")[1].split("```")[0])


def assert_states_equal(a, b):
    """Every leaf of two EnvStates is equal (shape, dtype and values)."""
    la, treedef_a = jax.tree.flatten(a)
    lb, treedef_b = jax.tree.flatten(b)
    assert treedef_a == treedef_b
    for x, y in zip(la, lb, strict=True):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


def _walk_types(obj):
    """Yield every leaf value of nested plain data."""
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _walk_types(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk_types(v)
    else:
        yield obj


def test_empty_mapping_is_blank_state():
    assert_states_equal(state_from_scenario({}), blank_state())


def test_doc_example_parses_to_exact_fields():
    s = state_from_scenario(_doc_example())
    g = s.grid
    assert int(g.content[5, 5]) == EXIT
    assert int(g.content[2, 2]) == BLOCK and int(g.block_kind[2, 2]) == KIND_DATA
    assert int(g.block_points[2, 2]) == 5 and int(g.block_spawn[2, 2]) == 5
    assert int(g.block_program[2, 2]) == -1
    assert int(g.block_kind[3, 3]) == KIND_PROGRAM and int(g.block_program[3, 3]) == 3
    assert int(g.block_points[3, 3]) == 0
    assert int(g.block_kind[4, 1]) == KIND_QUESTION and int(g.block_points[4, 1]) == 3
    assert int(g.block_program[4, 1]) == -1
    assert int(g.block_kind[4, 2]) == KIND_QUESTION and int(g.block_program[4, 2]) == 13
    assert int(g.credits[0, 3]) == 2 and int(g.energy[1, 3]) == 1
    assert int(g.content[0, 5]) == PICKUP and int(g.content[5, 0]) == PICKUP
    assert bool(g.siphoned[2, 1]) and bool(g.siphon_center[2, 1])
    assert int(s.enemies.count) == 1 and int(s.enemies.row[0]) == 3 and int(s.enemies.col[0]) == 2
    assert int(s.transmissions.count) == 1 and int(s.transmissions.enemy_type[0]) == 1
    assert not bool(s.undo.valid)


def test_doc_example_round_trip_is_canonical():
    out = scenario_from_state(state_from_scenario(_doc_example()))
    assert list(out) == ["stage", "turn", "exit", "player", "owned", "flags", "schedule",
                         "pending_spawns", "won", "done", "enemies", "transmissions", "blocks",
                         "resources", "pickups", "siphoned", "siphon_centers", "undo"]
    assert out["blocks"][0] == {"row": 2, "col": 2, "kind": "data", "points": 5,
                                "program": None, "spawn": 5, "siphoned": False}
    assert out["blocks"][1] == {"row": 3, "col": 3, "kind": "program", "points": 0,
                                "program": "WARP", "spawn": 5, "siphoned": False}
    assert out["blocks"][3] == {"row": 4, "col": 2, "kind": "question", "points": 0,
                                "program": "SHOW", "spawn": 2, "siphoned": False}
    assert out["resources"] == [{"row": 0, "col": 3, "credits": 2}, {"row": 1, "col": 3, "energy": 1}]
    assert out["pickups"] == [[0, 5], [5, 0]]
    assert out["undo"] is None
    for leaf in _walk_types(out):
        assert leaf is None or type(leaf) in (int, bool, str)
    assert scenario_from_state(state_from_scenario(out)) == out


def test_defaults_hp_by_type_and_spawn_by_payload():
    s = state_from_scenario({
        "enemies": [{"type": t, "row": 1, "col": i} for i, t in
                    enumerate(["virus", "daemon", "glitch", "cryptog"])],
        "transmissions": [{"row": 2, "col": 2, "enemy_type": "glitch"}],
        "blocks": [{"row": 3, "col": 0, "kind": "data", "points": 7},
                   {"row": 3, "col": 1, "kind": "program", "program": "ATK+"},
                   {"row": 3, "col": 2, "kind": "question", "program": "CRASH"},
                   {"row": 3, "col": 3, "kind": "question", "points": 4}],
    })
    assert s.enemies.hp[:5].tolist() == [2, 3, 2, 2, 0]
    assert s.enemies.disabled[:4].tolist() == [0, 0, 0, 0]
    assert int(s.transmissions.timer[0]) == 1
    assert s.grid.block_spawn[3, :4].tolist() == [7, 8, 6, 4]


def test_canonical_sorting_and_owned_order():
    out = scenario_from_state(state_from_scenario({
        "owned": ["HACK", "PUSH", "SIPH+", "PUSH"],
        "pickups": [[5, 0], [0, 5]],
        "siphoned": [[3, 1], [1, 4], [1, 2]],
        "resources": [{"row": 4, "col": 0, "energy": 3}, {"row": 0, "col": 4, "credits": 1}],
        "blocks": [{"row": 2, "col": 0, "kind": "data", "points": 1},
                   {"row": 1, "col": 5, "kind": "data", "points": 2}],
    }))
    assert out["owned"] == ["PUSH", "SIPH+", "HACK"]
    assert out["pickups"] == [[0, 5], [5, 0]]
    assert out["siphoned"] == [[1, 2], [1, 4], [3, 1]]
    assert [(r["row"], r["col"]) for r in out["resources"]] == [(0, 4), (4, 0)]
    assert [(b["row"], b["col"]) for b in out["blocks"]] == [(1, 5), (2, 0)]


UNDO_SCENARIO = {
    "stage": 3, "turn": 4, "exit": [0, 5],
    "player": {"row": 2, "col": 3, "hp": 2, "credits": 7, "energy": 9, "data_siphons": 1,
               "attack": 3, "score": 12},
    "owned": ["UNDO", "WAIT"],
    "flags": {"show": True, "calm": True, "step_pending": True, "atk_uses": 2},
    "schedule": {"interval": 8, "next": 13}, "pending_spawns": 5, "won": False, "done": False,
    "enemies": [{"type": "daemon", "row": 4, "col": 4, "hp": 1, "disabled": 2, "stunned": True,
                 "from_scheduled": True, "from_siphon": False}],
    "transmissions": [{"row": 1, "col": 1, "timer": 3, "enemy_type": "virus",
                       "from_scheduled": False, "from_siphon": True}],
    "blocks": [{"row": 3, "col": 3, "kind": "program", "program": "STEP", "spawn": 0,
                "siphoned": True}],
    "siphoned": [[2, 3], [1, 3]], "siphon_centers": [[2, 3]],
    "undo": {
        "player": {"row": 2, "col": 2, "hp": 3, "credits": 8, "energy": 9, "data_siphons": 2,
                   "attack": 3, "score": 10},
        "owned": ["WAIT"], "turn": 3, "flags": {"show": False, "calm": True, "atk_uses": 1},
        "enemies": [{"type": "glitch", "row": 3, "col": 3, "from_siphon": True}],
        "transmissions": [],
        "blocks": [{"row": 3, "col": 3, "kind": "question", "program": "STEP"}],
        "resources": [{"row": 2, "col": 2, "credits": 3}],
        "pickups": [[5, 5]], "siphoned": [], "siphon_centers": [],
    },
}


def test_undo_snapshot_round_trip():
    s = state_from_scenario(UNDO_SCENARIO)
    assert bool(s.undo.valid) and int(s.undo.turn) == 3 and int(s.undo.player.credits) == 8
    assert int(s.undo.grid.content[0, 5]) == EXIT and int(s.undo.grid.content[5, 5]) == PICKUP
    assert int(s.undo.grid.block_kind[3, 3]) == KIND_QUESTION
    assert int(s.undo.enemies.hp[0]) == 2 and bool(s.undo.enemies.from_siphon[0])
    out = scenario_from_state(s)
    assert out["undo"]["flags"] == {"show": False, "calm": True, "atk_uses": 1}
    assert out["undo"]["blocks"] == [{"row": 3, "col": 3, "kind": "question", "points": 0,
                                      "program": "STEP", "spawn": 4, "siphoned": False}]
    assert_states_equal(state_from_scenario(out), s)
    assert scenario_from_state(state_from_scenario(out)) == out


def test_load_scenario_yaml_and_json(tmp_path):
    y = tmp_path / "s.yaml"
    y.write_text(yaml.safe_dump(UNDO_SCENARIO))
    j = tmp_path / "s.json"
    j.write_text(json.dumps(UNDO_SCENARIO))
    expected = state_from_scenario(UNDO_SCENARIO)
    assert_states_equal(load_scenario(y), expected)
    assert_states_equal(load_scenario(str(j)), expected)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert_states_equal(load_scenario(empty), blank_state())


def test_load_scenario_errors(tmp_path):
    with pytest.raises(ScenarioError, match="missing.yaml"):
        load_scenario(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("stage: [1\n")
    with pytest.raises(ScenarioError, match="bad.yaml"):
        load_scenario(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"stage": 9}')
    with pytest.raises(ScenarioError, match="stage"):
        load_scenario(wrong)


def _enemy(**kw):
    return {"enemies": [{"type": "virus", "row": 1, "col": 1, **kw}]}


def _trans(**kw):
    return {"transmissions": [{"row": 1, "col": 1, "enemy_type": "virus", **kw}]}


def _block(**kw):
    return {"blocks": [{"row": 2, "col": 2, "kind": "data", "points": 3, **kw}]}


# (scenario, field path that the message must name, value that the message must show)
ERROR_CASES = [
    ({"foo": 1}, "foo", "foo"),
    ({"player": {"mana": 1}}, "player.mana", "mana"),
    ({"flags": {"hidden": True}}, "flags.hidden", "hidden"),
    ({"schedule": {"every": 3}}, "schedule.every", "every"),
    (_enemy(speed=2), "enemies[0].speed", "speed"),
    (_trans(speed=2), "transmissions[0].speed", "speed"),
    (_block(color="red"), "blocks[0].color", "color"),
    ({"resources": [{"row": 0, "col": 1, "credits": 1, "gold": 1}]}, "resources[0].gold", "gold"),
    ({"undo": {"stage": 2}}, "undo.stage", "stage"),
    ({"undo": {"flags": {"step_pending": True}}}, "undo.flags.step_pending", "step_pending"),
    ({"exit": [6, 5]}, "exit[0]", "6"),
    ({"exit": [2, 3]}, "exit", "[2, 3]"),
    ({"exit": [5]}, "exit", "[5]"),
    ({"player": {"row": 6}}, "player.row", "6"),
    ({"player": {"col": -1}}, "player.col", "-1"),
    (_enemy(col=-1), "enemies[0].col", "-1"),
    (_trans(row=7), "transmissions[0].row", "7"),
    (_block(row=6), "blocks[0].row", "6"),
    ({"resources": [{"row": 0, "col": 6, "credits": 1}]}, "resources[0].col", "6"),
    ({"pickups": [[0, 6]]}, "pickups[0][1]", "6"),
    ({"siphoned": [[-1, 0]]}, "siphoned[0][0]", "-1"),
    ({"siphon_centers": [[6, 6]]}, "siphon_centers[0][0]", "6"),
    ({"owned": ["FOO"]}, "owned[0]", "FOO"),
    (_block(kind="program", points=0, program="FOO"), "blocks[0].program", "FOO"),
    (_enemy(type="dragon"), "enemies[0].type", "dragon"),
    (_trans(enemy_type="worm"), "transmissions[0].enemy_type", "worm"),
    (_block(kind="gold"), "blocks[0].kind", "gold"),
    ({"stage": 0}, "stage", "0"),
    ({"stage": 9}, "stage", "9"),
    ({"turn": -1}, "turn", "-1"),
    ({"player": {"hp": 4}}, "player.hp", "4"),
    ({"player": {"hp": -1}}, "player.hp", "-1"),
    ({"player": {"attack": 0}}, "player.attack", "0"),
    ({"player": {"credits": -1}}, "player.credits", "-1"),
    ({"player": {"energy": -2}}, "player.energy", "-2"),
    ({"player": {"data_siphons": -1}}, "player.data_siphons", "-1"),
    ({"player": {"score": -3}}, "player.score", "-3"),
    ({"flags": {"atk_uses": 3}}, "flags.atk_uses", "3"),
    ({"schedule": {"interval": 3}}, "schedule.interval", "3"),
    ({"schedule": {"next": -1}}, "schedule.next", "-1"),
    ({"pending_spawns": -1}, "pending_spawns", "-1"),
    (_enemy(hp=0), "enemies[0].hp", "0"),
    (_enemy(hp=3), "enemies[0].hp", "3"),
    ({"enemies": [{"type": "daemon", "row": 0, "col": 1, "hp": 4}]}, "enemies[0].hp", "4"),
    (_enemy(disabled=-1), "enemies[0].disabled", "-1"),
    (_trans(timer=0), "transmissions[0].timer", "0"),
    (_block(points=0), "blocks[0].points", "0"),
    (_block(points=10), "blocks[0].points", "10"),
    (_block(spawn=10), "blocks[0].spawn", "10"),
    (_block(kind="program", points=0, program="WARP", spawn=6), "blocks[0].spawn", "6"),
    ({"resources": [{"row": 0, "col": 1, "credits": 0}]}, "resources[0].credits", "0"),
    ({"resources": [{"row": 0, "col": 1, "energy": 4}]}, "resources[0].energy", "4"),
    ({"blocks": [{"row": 2, "col": 2, "kind": "data", "points": 1},
                 {"row": 2, "col": 2, "kind": "data", "points": 2}]}, "blocks[1]", "[2, 2]"),
    ({"blocks": [{"row": 5, "col": 5, "kind": "data", "points": 1}]}, "blocks[0]", "[5, 5]"),
    ({"pickups": [[2, 2]], **_block()}, "pickups[0]", "[2, 2]"),
    ({"resources": [{"row": 2, "col": 2, "credits": 1}], **_block()}, "resources[0]", "[2, 2]"),
    ({"resources": [{"row": 5, "col": 5, "energy": 1}]}, "resources[0]", "[5, 5]"),
    ({"resources": [{"row": 1, "col": 1, "energy": 1}, {"row": 1, "col": 1, "credits": 1}]},
     "resources[1]", "[1, 1]"),
    ({"resources": [{"row": 1, "col": 1, "energy": 1, "credits": 1}]}, "resources[0]", "energy"),
    ({"resources": [{"row": 1, "col": 1}]}, "resources[0]", "row"),
    ({"pickups": [[5, 5]]}, "pickups[0]", "[5, 5]"),
    ({"siphoned": [[2, 2]], **_block()}, "siphoned[0]", "[2, 2]"),
    ({"enemies": [{"type": "virus", "row": i % 6, "col": (i // 6) % 6} for i in range(37)]},
     "enemies", "37"),
    ({"transmissions": [{"row": 0, "col": 1, "enemy_type": "virus"}] * 37},
     "transmissions", "37"),
    ({"stage": "1"}, "stage", "'1'"),
    ({"stage": 1.0}, "stage", "1.0"),
    ({"player": {"hp": True}}, "player.hp", "True"),
    ({"won": "yes"}, "won", "yes"),
    ({"flags": {"show": 1}}, "flags.show", "1"),
    (_enemy(stunned="no"), "enemies[0].stunned", "no"),
    ({"enemies": {"type": "virus"}}, "enemies", "virus"),
    ({"player": [1, 2]}, "player", "[1, 2]"),
    ({"enemies": [{"row": 1, "col": 1}]}, "enemies[0].type", "None"),
    ({"enemies": [{"type": "virus", "col": 1}]}, "enemies[0].row", "None"),
    ({"transmissions": [{"row": 1, "col": 1}]}, "transmissions[0].enemy_type", "None"),
    (_block(kind="question", points=3, program="WARP"), "blocks[0]", "WARP"),
    ({"blocks": [{"row": 1, "col": 1, "kind": "question"}]}, "blocks[0]", "question"),
    (_block(kind="question", siphoned=True), "blocks[0].siphoned", "True"),
    (_block(program="WARP"), "blocks[0].program", "WARP"),
    (_block(kind="program", program="WARP"), "blocks[0].points", "3"),
    ({"blocks": [{"row": 1, "col": 1, "kind": "data"}]}, "blocks[0].points", "None"),
    ({"undo": {"player": {"hp": 5}}}, "undo.player.hp", "5"),
    ({"undo": {"owned": ["NOPE"]}}, "undo.owned[0]", "NOPE"),
    ({"undo": {"blocks": [{"row": 9, "col": 0, "kind": "data", "points": 1}]}},
     "undo.blocks[0].row", "9"),
    ({"undo": {"enemies": [{"type": "virus", "row": 0, "col": 0, "hp": 9}]}},
     "undo.enemies[0].hp", "9"),
    ({"undo": {"pickups": [[5, 5]]}}, "undo.pickups[0]", "[5, 5]"),
    ({"undo": {"flags": {"atk_uses": -1}}}, "undo.flags.atk_uses", "-1"),
    ({"undo": {"turn": -2}}, "undo.turn", "-2"),
    ({"undo": [1]}, "undo", "[1]"),
    ([1, 2], "<root>", "[1, 2]"),
]


@pytest.mark.parametrize(("scenario", "field", "value"), ERROR_CASES,
                         ids=[f"{i}-{c[1]}" for i, c in enumerate(ERROR_CASES)])
def test_error_names_field_and_value(scenario, field, value):
    with pytest.raises(ScenarioError) as info:
        state_from_scenario(scenario)
    message = str(info.value)
    assert re.search(rf"scenario field {re.escape(field)}[:.\[ ]", message + " "), message
    assert value in message, message


def test_scenario_error_is_a_value_error():
    with pytest.raises(ValueError):
        state_from_scenario({"stage": 10})


def test_states_are_jax_arrays_with_canonical_dtypes():
    s = state_from_scenario(UNDO_SCENARIO)
    for leaf in jax.tree.leaves(s):
        assert isinstance(leaf, jnp.ndarray)
        assert leaf.dtype in (jnp.int32, jnp.bool_)
