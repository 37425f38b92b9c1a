"""Siphon yield, siphon quality and the siphon itself (rules §6)."""

import jax
import jax.numpy as jnp

from hackmatrix.env.constants import (
    BLOCK,
    CALM,
    KIND_DATA,
    KIND_PROGRAM,
    PULL,
    PUSH,
    SHOW,
    WARP,
)
from hackmatrix.env.siphon import apply_siphon, siphon_quality, siphon_yield, siphon_yields
from tests.env.conftest_actions import make_state

_quality = jax.jit(siphon_quality)
_siphon = jax.jit(apply_siphon)


def _yield(state, row, col):
    credits, energy, data, progs = siphon_yield(state, row, col)
    data_multiset = [points for points in range(10) for _ in range(int(data[points]))]
    return int(credits), int(energy), data_multiset, {int(i) for i in jnp.flatnonzero(progs)}


def _quality_tuple(state):
    found, missed_credits, missed_energy = _quality(state)
    return bool(found), int(missed_credits), int(missed_energy)


def test_appendix_a_example_5():
    s = make_state(player=(2, 1), blocks=[{"row": 2, "col": 2, "kind": "data", "points": 5}],
                   resources=[(2, 4, 3, 0)])
    assert _yield(s, 2, 1) == (0, 0, [5], set())
    assert _yield(s, 2, 3) == (3, 0, [5], set())
    assert _quality_tuple(s) == (True, 3, 0)


def test_yield_skips_siphoned_cells_owned_programs_and_counts_hidden_values():
    s = make_state(
        player=(0, 0), owned=[WARP],
        blocks=[
            {"row": 3, "col": 2, "kind": "question", "points": 6},
            {"row": 1, "col": 2, "kind": "question", "program": SHOW},
            {"row": 2, "col": 1, "kind": "program", "program": WARP},
            {"row": 2, "col": 3, "kind": "data", "points": 6, "siphoned": True},
        ],
        resources=[(2, 2, 2, 0), (4, 2, 0, 3)], siphoned=[(2, 2)],
    )
    assert _yield(s, 2, 2) == (0, 0, [6], {SHOW})
    assert _yield(s, 3, 2) == (0, 0, [], set())  # a block cell yields nothing
    assert _yield(s, 4, 2) == (0, 3, [6], set())
    s2 = make_state(blocks=[{"row": 1, "col": 1, "kind": "data", "points": 4},
                            {"row": 1, "col": 3, "kind": "data", "points": 4}])
    assert _yield(s2, 1, 2) == (0, 0, [4, 4], set())
    credits, energy, data, progs = siphon_yields(s)
    assert credits.shape == energy.shape == (6, 6)
    assert data.shape == (6, 6, 10) and progs.shape == (6, 6, 23)
    assert int(energy[4, 2]) == 3 and data[2, 2].tolist() == [0] * 6 + [1, 0, 0, 0]


def test_quality_candidates_must_touch_every_cross_block():
    # The same DATA(5) value is also on offer at (3,4)+(3,5), but (3,4) does not touch (2,2).
    s = make_state(player=(2, 1),
                   blocks=[{"row": 2, "col": 2, "kind": "data", "points": 5},
                           {"row": 4, "col": 4, "kind": "data", "points": 5}],
                   resources=[(3, 5, 3, 0)])
    assert _yield(s, 3, 4) == (3, 0, [5], set())
    assert _quality_tuple(s) == (False, 0, 0)


def test_quality_owned_program_block_restricts_candidates_but_not_the_yield():
    s = make_state(player=(1, 1), owned=[PULL],
                   blocks=[{"row": 2, "col": 1, "kind": "program", "program": PUSH},
                           {"row": 1, "col": 2, "kind": "program", "program": PULL}],
                   resources=[(2, 3, 1, 0), (3, 1, 0, 2)])
    assert _yield(s, 1, 1) == (0, 0, [], {PUSH})
    # (3,1) touches only the PUSH block and yields more: not a candidate; (2,2) touches both.
    assert _yield(s, 3, 1) == (0, 2, [], {PUSH})
    assert _yield(s, 2, 2) == (1, 0, [], {PUSH})
    assert _quality_tuple(s) == (True, 1, 0)


def test_quality_without_payload_takes_the_maxima_independently():
    # Every cross holding (0,5) also holds a data block, so its 3 energy never counts.
    s = make_state(player=(0, 0), resources=[(3, 3, 3, 0), (5, 0, 0, 2), (0, 5, 0, 3)],
                   blocks=[{"row": 1, "col": 5, "kind": "data", "points": 2},
                           {"row": 0, "col": 4, "kind": "data", "points": 1}])
    assert _quality_tuple(s) == (True, 3, 2)
    # A better cell must keep both resources at least as high.
    s = make_state(player=(0, 0), resources=[(0, 1, 0, 2), (3, 3, 3, 0)])
    assert _quality_tuple(s) == (False, 0, 0)


def test_siphon_cross_with_every_block_kind():
    s = make_state(
        player=(2, 2), data_siphons=1, score=1,
        blocks=[
            {"row": 3, "col": 2, "kind": "data", "points": 4},
            {"row": 1, "col": 2, "kind": "program", "program": WARP},
            {"row": 2, "col": 1, "kind": "question", "points": 7},
            {"row": 2, "col": 3, "kind": "question", "program": SHOW},
            {"row": 2, "col": 4, "kind": "data", "points": 9},
        ],
        resources=[(2, 2, 2, 0), (3, 3, 0, 3)],
    )
    out = _siphon(s)
    p = out.player
    assert int(p.score) == 1 + 4 + 7
    assert jnp.flatnonzero(p.owned).tolist() == [WARP, SHOW]
    assert (int(p.credits), int(p.energy), int(p.data_siphons)) == (2, 0, 0)
    assert int(out.pending_spawns) == 4 + 5 + 7 + 2
    g = out.grid
    assert int(g.block_kind[2, 1]) == KIND_DATA and int(g.block_points[2, 1]) == 7
    assert int(g.block_kind[2, 3]) == KIND_PROGRAM and int(g.block_program[2, 3]) == SHOW
    assert int(g.block_kind[3, 2]) == KIND_DATA and int(g.block_kind[1, 2]) == KIND_PROGRAM
    assert [int(g.block_spawn[r, c]) for r, c in ((3, 2), (1, 2), (2, 1), (2, 3), (2, 4))] == [
        0, 0, 0, 0, 9]
    assert jnp.flatnonzero(g.siphoned).tolist() == [8, 13, 14, 15, 20]
    assert jnp.flatnonzero(g.siphon_center).tolist() == [14]
    assert int(g.credits[2, 2]) == 0 and int(g.energy[3, 3]) == 3
    # Blocks stay blocks.
    assert all(int(g.content[r, c]) == BLOCK for r, c in ((3, 2), (1, 2), (2, 1), (2, 3)))
    assert (int(out.sched_interval), int(out.sched_next)) == (11, 17)


def test_siphon_skips_siphoned_cells_and_queues_owned_program_blocks():
    s = make_state(
        player=(4, 5), data_siphons=2, owned=[CALM], sched_interval=4, sched_next=9,
        pending_spawns=3,
        blocks=[
            {"row": 5, "col": 5, "kind": "program", "program": CALM},
            {"row": 3, "col": 5, "kind": "data", "points": 8, "spawn": 2, "siphoned": True},
        ],
        resources=[(4, 4, 0, 3), (4, 5, 1, 0)], siphoned=[(4, 4)],
    )
    out = _siphon(s)
    p = out.player
    assert jnp.flatnonzero(p.owned).tolist() == [CALM]
    assert (int(p.score), int(p.credits), int(p.energy), int(p.data_siphons)) == (0, 1, 0, 1)
    assert int(out.pending_spawns) == 3 + 6
    assert int(out.grid.block_spawn[3, 5]) == 2 and int(out.grid.energy[4, 4]) == 3
    assert int(out.grid.block_spawn[5, 5]) == 0
    assert (int(out.sched_interval), int(out.sched_next)) == (4, 14)
    assert out.grid.siphoned[5, 5] and out.grid.siphon_center[4, 5]


def test_siphon_is_vmappable():
    a = make_state(player=(2, 2), data_siphons=1, resources=[(2, 3, 2, 0)])
    b = make_state(player=(0, 0), data_siphons=1, resources=[(0, 1, 0, 1), (3, 3, 0, 2)])
    states = jax.tree.map(lambda *xs: jnp.stack(xs), a, b)
    out = jax.jit(jax.vmap(apply_siphon))(states)
    assert out.player.credits.tolist() == [2, 0] and out.player.energy.tolist() == [0, 1]
    found, mc, me = jax.jit(jax.vmap(siphon_quality))(states)
    assert found.tolist() == [False, True] and mc.tolist() == [0, 0] and me.tolist() == [0, 1]
