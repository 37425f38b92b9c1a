"""Differential tests: the JAX engine against the reference engine, step by step.

Default: 150 reset games + 150 rich scenarios, each up to 300 steps (about two minutes on two
cores, most of it compiling the batched JAX step). `--long` adds a run with ten times more games.
"""

import pytest
from refkit import key

from hackmatrix.env import scenario_from_state, state_from_scenario
from hackmatrix.reference import Game
from hackmatrix.reference.differential import JaxSide, Start, run, scenario_diff
from hackmatrix.reference.rich import rich_scenario

GAMES = 150  # of each kind
MAX_STEPS = 300
BATCH = 32


@pytest.fixture(scope="module")
def jax_side():
    """The jitted, vmapped JAX engine (compiled once per module)."""
    return JaxSide(BATCH)


def _starts(n: int, offset: int) -> list:
    starts = []
    for i in range(offset, offset + n):
        starts.append(Start(seed=i))
        starts.append(Start(seed=500_000 + i, scenario=rich_scenario(500_000 + i), label="rich"))
    return starts


def _check(jax_side, capsys, n, offset):
    coverage, reports = run(_starts(n, offset), max_steps=MAX_STEPS, jax_side=jax_side)
    with capsys.disabled():
        print("\n" + coverage.summary())
    assert not reports, "JAX and reference engines disagree:\n\n" + "\n\n".join(reports)
    assert coverage.games == 2 * n
    assert not coverage.missing(), "never exercised: " + ", ".join(coverage.missing())


def test_differential_games(jax_side, capsys):
    _check(jax_side, capsys, GAMES, 0)


@pytest.mark.long
def test_differential_games_long(jax_side, capsys):
    _check(jax_side, capsys, 10 * GAMES, 10_000)


def test_scenario_format_agrees_with_the_jax_engine():
    for seed in range(4):
        scenario = rich_scenario(seed)
        assert scenario_from_state(state_from_scenario(scenario)) == scenario
        new = Game.new(key(seed)).to_scenario()
        assert Game.from_scenario(new).to_scenario() == new


def test_scenario_diff_is_readable():
    a = {"player": {"hp": 2, "row": 1}, "enemies": [{"row": 1}, {"row": 2}], "undo": None}
    b = {"player": {"hp": 3, "row": 1}, "enemies": [{"row": 1}], "undo": None}
    assert scenario_diff(a, b) == ["enemies[1]: jax={'row': 2} ref='<none>'",
                                   "player.hp: jax=2 ref=3"]
    assert scenario_diff({"won": False}, {"won": 0}) == ["won: jax=False ref=0"]
