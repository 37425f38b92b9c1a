"""One scenario validation for both engines (hackmatrix/env/scenario_check.py): the same malformed
scenario gets the same one-line message from the Python API and from `hackmatrix play`, and random
scenarios are either refused alike or loaded by both engines to the same state; never another
exception, never a hang."""

import copy
import json

import jax
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_scenario import ERROR_CASES, UNDO_SCENARIO, _doc_example

from hackmatrix.cli import main as cli_main
from hackmatrix.env import load_scenario, scenario_from_state, state_from_scenario
from hackmatrix.env.constants import ENEMY_NAMES, PROGRAM_NAMES
from hackmatrix.env.scenario_check import INT32_MAX, check_scenario
from hackmatrix.errors import ScenarioError
from hackmatrix.reference import Game
from hackmatrix.reference.differential import scenario_diff

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Beyond the field-by-field cases of test_scenario.py: int32 overflow, wrong types where the two
# readers used to differ (null, numbers as names), and conflicts whose field depends on the order.
MORE_CASES = [
    {"turn": INT32_MAX + 1},
    {"player": {"score": 2**64}},
    {"enemies": [{"type": "virus", "row": 1, "col": 1, "disabled": 2**31}]},
    {"undo": {"turn": -(2**70)}},
    {"schedule": {"next": 10**30}},
    {"stage": None},
    {"enemies": [{"type": None, "row": 1, "col": 1}]},
    {"enemies": [{"type": 1, "row": 1, "col": 1}]},
    {"owned": [["WAIT"]]},
    {"blocks": [{"row": 1, "col": 1, "kind": "program", "program": "WAIT", "points": False}]},
    {"pickups": [[1, 1]], "blocks": [{"row": 1, "col": 1, "kind": "data", "points": 2}]},
    {"resources": [{"row": 1, "col": 1, "credits": 1}],
     "blocks": [{"row": 1, "col": 1, "kind": "data", "points": 2}]},
    {"blocks": [{"row": 1, "col": 1, "kind": "data"}]},
    {"player": {"hp": "x" * 500}},
    {"exit": "corner"},
    [1, 2],
    "stage: 2",
]
MALFORMED = [case[0] for case in ERROR_CASES] + MORE_CASES


def _refusal(read, scenario) -> str:
    with pytest.raises(ScenarioError) as info:
        read(scenario)
    return str(info.value)


@pytest.mark.parametrize("scenario", MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_same_message_from_the_python_api_and_from_play(scenario, tmp_path, capsys):
    message = _refusal(state_from_scenario, scenario)
    assert message.startswith("scenario field ") and "\n" not in message, message
    assert _refusal(Game.from_scenario, scenario) == message
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(scenario))
    assert _refusal(load_scenario, path) == message
    assert cli_main(["play", "--scenario", str(path)]) == 2
    assert capsys.readouterr().err == f"hackmatrix play: error: {message}\n"


@pytest.mark.parametrize(("text", "reason"), [
    (b"stage: [1\n", "is not valid YAML/JSON"),
    (b"stage: \xff\n", "is not UTF-8 text"),
])
def test_unreadable_files_are_one_line_in_both_readers(text, reason, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_bytes(text)
    message = _refusal(load_scenario, path)
    assert reason in message and "\n" not in message, message
    assert cli_main(["play", "--scenario", str(path)]) == 2
    assert capsys.readouterr().err == f"hackmatrix play: error: {message}\n"


# Random scenarios near the valid ones (so that many are accepted), with wild values mixed in.
wild = st.one_of(st.integers(-(2**70), 2**70), st.booleans(), st.floats(allow_nan=True),
                 st.text(max_size=4), st.none(), st.lists(st.integers(-1, 6), max_size=3))


def _mostly(valid, other, odds=20):
    """`valid`, except one draw in `odds` (about: hypothesis favours small indices) `other`."""
    return st.integers(0, odds - 1).flatmap(lambda i: other if i == 0 else valid)


def _near(valid):
    return _mostly(valid, wild)


coord = _mostly(st.integers(0, 5), st.sampled_from([-1, 6]))
small = _mostly(st.integers(0, 9), st.just(-1))


def _entry(fields: dict, required=()):
    """A mapping of `fields`: the `required` ones always present, each other one maybe."""
    return st.fixed_dictionaries({k: _near(fields[k]) for k in required},
                                 optional={k: _near(v) for k, v in fields.items()
                                           if k not in required})


cells = st.lists(coord, min_size=2, max_size=2)
enemy_type = st.sampled_from(ENEMY_NAMES)
program = st.sampled_from(PROGRAM_NAMES)
flag = st.booleans()
enemies = st.lists(_entry({"type": enemy_type, "row": coord, "col": coord,
                           "hp": st.integers(1, 3), "disabled": st.integers(0, 3),
                           "stunned": flag, "from_scheduled": flag, "from_siphon": flag},
                          ("type", "row", "col")), max_size=3)
transmissions = st.lists(_entry({"row": coord, "col": coord, "timer": st.integers(0, 4),
                                 "enemy_type": enemy_type, "from_siphon": flag},
                                ("row", "col", "enemy_type")), max_size=3)
_block = {"row": coord, "col": coord, "spawn": st.integers(0, 10), "siphoned": flag}
blocks = st.lists(st.one_of(
    _entry({**_block, "kind": st.just("data"), "points": st.integers(0, 10)},
           ("row", "col", "kind", "points")),
    _entry({**_block, "kind": st.just("program"), "program": program},
           ("row", "col", "kind", "program")),
    _entry({**_block, "kind": st.just("question"), "points": st.integers(0, 10),
            "program": program}, ("row", "col", "kind")),
    _entry({**_block, "kind": st.sampled_from(["data", "program", "question", "x"]),
            "points": small, "program": program})), max_size=3)
resources = st.lists(
    _entry({"row": coord, "col": coord, "credits": st.integers(0, 4)}, ("row", "col", "credits"))
    | _entry({"row": coord, "col": coord, "energy": st.integers(0, 4)}, ("row", "col", "energy")),
    max_size=3)
player = _entry({"row": coord, "col": coord, "hp": st.integers(0, 4),
                 **{k: small for k in ("credits", "energy", "data_siphons", "attack", "score")}})
grid = {"blocks": blocks, "resources": resources, "pickups": st.lists(_near(cells), max_size=3),
        "siphoned": st.lists(_near(cells), max_size=2),
        "siphon_centers": st.lists(_near(cells), max_size=2)}
undo = _entry({"player": player, "owned": st.lists(program, max_size=2), "turn": small,
               "flags": _entry({"show": flag, "calm": flag, "atk_uses": st.integers(0, 3)}),
               "enemies": enemies, "transmissions": transmissions, **grid})
scenarios = _entry({
    "stage": st.integers(0, 9), "turn": small,
    "exit": st.sampled_from([[0, 0], [0, 5], [5, 0], [5, 5], [2, 2]]),
    "player": player, "owned": st.lists(_near(program), max_size=3),
    "flags": _entry({"show": flag, "calm": flag, "step_pending": flag,
                     "atk_uses": st.integers(0, 3)}),
    "schedule": _entry({"interval": st.integers(3, 9), "next": small}),
    "pending_spawns": small, "won": flag, "done": flag, "enemies": enemies,
    "transmissions": transmissions, **grid, "undo": undo,
})

# Real game states (full boards, an undo snapshot) with a few fields replaced or removed.
BASES = [_doc_example(), UNDO_SCENARIO,
         *(Game.new(jax.random.PRNGKey(seed)).to_scenario() for seed in range(3))]
BASES.append({**BASES[-1], "siphon_centers": [[r, r] for r in range(6)]})
NAMES = [*ENEMY_NAMES, *PROGRAM_NAMES, "data", "program", "question"]
replacement = st.one_of(st.integers(-1, 10), st.sampled_from(NAMES), st.booleans(), wild)


@st.composite
def mutated(draw):
    """A copy of one base scenario with up to three leaves (or keys) replaced or deleted."""
    scenario = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        node = scenario
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, dict | list) and child and draw(st.booleans()):
                node = child
            elif isinstance(node, dict) and draw(_mostly(st.just(False), st.just(True), 5)):
                del node[key]
                break
            else:
                node[key] = draw(replacement)
                break
    return scenario


# And arbitrary nesting of any keys, valid or not, with any values.
TOP = ["stage", "turn", "exit", "player", "owned", "flags", "schedule", "pending_spawns", "won",
       "done", "enemies", "transmissions", "blocks", "resources", "pickups", "undo", "bogus"]
PLAYER = ["row", "col", "hp", "credits", "energy", "data_siphons", "attack", "score"]
values = st.recursive(wild, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(PLAYER + TOP), inner, max_size=3),
                      max_leaves=8)
garbage = st.dictionaries(st.sampled_from(TOP), values, max_size=5) | values


@FAST
@given(scenario=st.one_of(mutated(), scenarios, garbage))
def test_random_scenarios_are_refused_alike_or_load_to_the_same_state(scenario):
    try:
        canonical = check_scenario(scenario)
    except ScenarioError as err:
        message = str(err)
        assert message.startswith("scenario field ") and "\n" not in message, message
        assert _refusal(state_from_scenario, scenario) == message
        assert _refusal(Game.from_scenario, scenario) == message
        return
    jax_side = scenario_from_state(state_from_scenario(scenario))
    ref_side = Game.from_scenario(scenario).to_scenario()
    assert scenario_diff(jax_side, ref_side) == []
    assert scenario_diff(jax_side, canonical) == []
    assert check_scenario(canonical) == canonical
