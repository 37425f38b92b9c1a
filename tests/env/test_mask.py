"""The action mask (rules §3)."""

import jax
import jax.numpy as jnp

from hackmatrix.env.constants import (
    CALM,
    DOWN,
    EXCH,
    GLITCH,
    LEFT,
    NUM_ACTIONS,
    PROGRAM_ACTION_OFFSET,
    RIGHT,
    SIPHON_ACTION,
    UNDO,
    UP,
    VIRUS,
    WAIT,
)
from hackmatrix.env.mask import action_mask
from tests.env.conftest_actions import make_state

_mask = jax.jit(action_mask)


def _valid(state):
    return [a for a, ok in enumerate(_mask(state).tolist()) if ok]


def test_corner_edges_are_invalid():
    assert _valid(make_state(player=(0, 0))) == [UP, RIGHT]
    assert _valid(make_state(player=(5, 5))) == [DOWN, LEFT]
    assert _valid(make_state(player=(3, 2))) == [UP, DOWN, LEFT, RIGHT]


def test_mask_has_one_entry_per_action():
    assert _mask(make_state()).shape == (NUM_ACTIONS,)


def test_block_is_invalid_unless_an_enemy_stands_on_it():
    block = [{"row": 1, "col": 0, "kind": "data", "points": 2}]
    assert _valid(make_state(player=(0, 0), blocks=block)) == [RIGHT]
    on_block = make_state(player=(0, 0), blocks=block,
                          enemies=[{"type": GLITCH, "row": 1, "col": 0}])
    assert _valid(on_block) == [UP, RIGHT]
    # A transmission on a block does not validate it.
    trans = make_state(player=(0, 0), blocks=block, transmissions=[{"row": 1, "col": 0}])
    assert _valid(trans) == [RIGHT]
    # A siphoned block is still a block.
    siphoned = [{**block[0], "siphoned": True}]
    assert _valid(make_state(player=(0, 0), blocks=siphoned)) == [RIGHT]


def test_only_the_adjacent_cell_counts():
    # A target two cells away never validates a blocked direction; an occupied empty cell is valid.
    s = make_state(player=(0, 0), blocks=[{"row": 0, "col": 1, "kind": "data", "points": 1}],
                   enemies=[{"type": VIRUS, "row": 0, "col": 2},
                            {"type": VIRUS, "row": 1, "col": 0}])
    assert _valid(s) == [UP]


def test_siphon_needs_a_data_siphon_only():
    assert SIPHON_ACTION not in _valid(make_state(data_siphons=0))
    assert SIPHON_ACTION in _valid(make_state(data_siphons=1))


def test_programs_need_owned_affordable_and_applicable():
    wait = PROGRAM_ACTION_OFFSET + WAIT
    assert wait not in _valid(make_state(energy=5))  # not owned
    assert wait not in _valid(make_state(owned=[WAIT], energy=0))  # not affordable
    assert wait in _valid(make_state(owned=[WAIT], energy=1))
    calm = PROGRAM_ACTION_OFFSET + CALM
    assert calm in _valid(make_state(owned=[CALM], credits=2, energy=4))
    assert calm not in _valid(make_state(owned=[CALM], credits=2, energy=4, calm=True))
    undo = PROGRAM_ACTION_OFFSET + UNDO
    assert undo not in _valid(make_state(owned=[UNDO], credits=1))  # empty history
    exch = PROGRAM_ACTION_OFFSET + EXCH
    assert _valid(make_state(player=(0, 0), owned=[EXCH, UNDO], credits=4)) == [UP, RIGHT, exch]


def test_mask_is_vmappable():
    states = jax.tree.map(lambda *xs: jnp.stack(xs), make_state(player=(0, 0)),
                          make_state(player=(5, 5), data_siphons=1))
    masks = jax.jit(jax.vmap(action_mask))(states)
    assert masks[:, :5].tolist() == [[True, False, False, True, False],
                                     [False, True, True, False, True]]
