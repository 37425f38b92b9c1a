"""Property-based: random scenarios are accepted or refused with one line naming the field, by
both engines' readers (`state_from_scenario` and the reference `Game.from_scenario` of `play`);
never another exception, never a hang."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hackmatrix.env import state_from_scenario
from hackmatrix.errors import ScenarioError
from hackmatrix.reference import Game

FAST = settings(max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
TOP = ["stage", "turn", "exit", "player", "owned", "flags", "schedule", "pending_spawns", "won",
       "done", "enemies", "transmissions", "blocks", "resources", "pickups", "undo", "bogus"]
PLAYER = ["row", "col", "hp", "credits", "energy", "data_siphons", "attack", "score"]
scalars = st.one_of(st.integers(-3, 8), st.integers(-(2**70), 2**70), st.booleans(),
                    st.floats(allow_nan=True), st.text(max_size=6), st.none())
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(PLAYER + TOP), inner, max_size=3),
                      max_leaves=8)
scenarios = st.dictionaries(st.sampled_from(TOP), values, max_size=5) | st.fixed_dictionaries(
    {"player": st.dictionaries(st.sampled_from(PLAYER), scalars, max_size=4)})


def _one_line_or_accepted(read, scenario) -> None:
    try:
        read(scenario)
    except ScenarioError as err:
        message = str(err)
        assert message and "\n" not in message, message


@FAST
@given(scenario=scenarios)
def test_both_readers_accept_or_refuse_any_scenario_in_one_line(scenario):
    _one_line_or_accepted(state_from_scenario, scenario)
    _one_line_or_accepted(Game.from_scenario, scenario)
