"""The enemy turn's mover loop with enemies stacked on one cell, against the reference engine.

The JAX loop tracks "another enemy still shares my cell" per enemy instead of recounting, so
stacks of two and three, stacks holding a non-mover (disabled, stunned or adjacent to the
player) and stacked viruses (two sub-steps) are checked over many acting orders.
"""

import jax
import numpy as np

from hackmatrix.env import scenario_from_state, state_from_scenario
from hackmatrix.env.enemy_turn import enemy_turn
from hackmatrix.reference import Game
from hackmatrix.reference.enemy_turn import enemy_turn as reference_enemy_turn

_turn = jax.jit(enemy_turn)


def _enemy(type_, row, col, **kw):
    return {"type": type_, "row": row, "col": col, **kw}


_SCENARIOS = [
    # Two daemons stacked in the path of a third (test_movement's stacked case).
    {"player": {"row": 0, "col": 2},
     "enemies": [_enemy("daemon", 2, 2), _enemy("daemon", 2, 2), _enemy("daemon", 3, 2)]},
    # Three on one cell, one of them disabled, a glitch among them, a block nearby.
    {"player": {"row": 0, "col": 0},
     "enemies": [_enemy("daemon", 3, 3), _enemy("glitch", 3, 3), _enemy("daemon", 3, 3, disabled=1),
                 _enemy("cryptog", 4, 3), _enemy("daemon", 2, 4)],
     "blocks": [{"row": 2, "col": 3, "kind": "data", "points": 2}]},
    # Stacked viruses move twice; a stunned one stays behind on the stack.
    {"player": {"row": 5, "col": 0},
     "enemies": [_enemy("virus", 1, 4), _enemy("virus", 1, 4), _enemy("virus", 1, 4, stunned=True),
                 _enemy("daemon", 2, 4), _enemy("virus", 0, 3)]},
    # A stack next to the player: its members attack, a stacked mover elsewhere leaves.
    {"player": {"row": 2, "col": 2},
     "enemies": [_enemy("daemon", 2, 3), _enemy("daemon", 2, 3), _enemy("virus", 4, 4),
                 _enemy("virus", 4, 4), _enemy("daemon", 4, 4)],
     "transmissions": [{"row": 3, "col": 4, "timer": 2, "enemy_type": "daemon"}]},
]


def _positions(scenario):
    return [(e["type"], e["row"], e["col"]) for e in scenario["enemies"]]


def test_stacked_movers_match_the_reference_engine():
    moved = 0
    for scenario in _SCENARIOS:
        for seed in range(12):
            key = jax.random.PRNGKey(seed)
            game = Game.from_scenario(scenario)
            reference_enemy_turn(game.state, np.asarray(key))
            ours = scenario_from_state(jax.device_get(_turn(key, state_from_scenario(scenario))))
            assert _positions(ours) == _positions(game.to_scenario()), (scenario, seed)
            assert ours == game.to_scenario(), (scenario, seed)
            moved += _positions(ours) != _positions(scenario)
    assert moved == 48


def test_three_stacked_daemons_leave_one_by_one():
    # Player (0, 0); daemons stacked on (2, 0), blocks on column 1 rows 1..3. Whatever the
    # order: the first takes (1, 0) (distance 1); for the second (1, 0) is in Occ, so step 1
    # finds (3, 0) by the long way round the blocks; the third has no free neighbour and stays.
    scenario = {
        "player": {"row": 0, "col": 0},
        "enemies": [_enemy("daemon", 2, 0), _enemy("daemon", 2, 0), _enemy("daemon", 2, 0)],
        "blocks": [{"row": r, "col": 1, "kind": "data", "points": 1} for r in (1, 2, 3)],
    }
    for seed in range(6):
        state = _turn(jax.random.PRNGKey(seed), state_from_scenario(scenario))
        cells = sorted(zip(np.asarray(state.enemies.row[:3]).tolist(),
                           np.asarray(state.enemies.col[:3]).tolist()))
        assert cells == [(1, 0), (2, 0), (3, 0)], seed
