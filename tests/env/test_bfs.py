"""Bitboards, targeted BFS and ExitDist (rules §7.4)."""

import jax.numpy as jnp
import numpy as np

from hackmatrix.env import bfs


def _open(*walls):
    passable = np.ones((6, 6), bool)
    for cell in walls:
        passable[cell] = False
    return jnp.asarray(passable)


def test_pack_unpack_and_spread_bits_match_boolean_versions():
    masks = np.random.default_rng(0).random((50, 6, 6)) < 0.3
    for m in masks:
        lo, hi = bfs.pack(jnp.asarray(m))
        np.testing.assert_array_equal(np.asarray(bfs.unpack(lo, hi)), m)
        slo, shi = bfs.spread_bits(lo, hi)
        np.testing.assert_array_equal(np.asarray(bfs.unpack(slo, shi)), np.asarray(bfs.spread(m)))


def test_spread_of_corner_and_cross_word_cells():
    expected = np.zeros((6, 6), bool)
    expected[[3, 1, 2], [0, 0, 1]] = True  # neighbours of (2, 0): (3,0), (1,0), (2,1)
    got = bfs.unpack(*bfs.spread_bits(*bfs.cell_bits(2, 0)))
    np.testing.assert_array_equal(np.asarray(got), expected)
    got = np.asarray(bfs.unpack(*bfs.spread_bits(*bfs.cell_bits(3, 5))))
    assert sorted(zip(*np.nonzero(got))) == [(2, 5), (3, 4), (4, 5)]


def test_cell_bits_and_has_cell_off_board():
    assert bfs.cell_bits(-1, 0) == (0, 0)
    assert bfs.cell_bits(6, 2) == (0, 0)
    lo, hi = bfs.cell_bits(4, 1)
    assert bool(bfs.has_cell(lo, hi, 4, 1)) and not bool(bfs.has_cell(lo, hi, 1, 1))
    assert not bool(bfs.has_cell(lo, hi, 4, -1))


def test_first_reached_returns_first_level_hits():
    plo, phi = bfs.pack(_open((1, 1)))
    slo, shi = bfs.cell_bits(0, 0)
    # Targets (2, 2) at distance 4 and (0, 4) at distance 4, (5, 5) at 10.
    tmask = np.zeros((6, 6), bool)
    tmask[2, 2] = tmask[0, 4] = tmask[5, 5] = True
    tlo, thi = bfs.pack(jnp.asarray(tmask))
    hlo, hhi, level = bfs.first_reached_bits(plo, phi, slo, shi, tlo, thi)
    assert int(level) == 4
    assert sorted(zip(*np.nonzero(np.asarray(bfs.unpack(hlo, hhi))))) == [(0, 4), (2, 2)]
    # An empty source means no search at all.
    hlo, hhi, level = bfs.first_reached_bits(plo, phi, 0, 0, tlo, thi)
    assert (int(hlo), int(hhi), int(level)) == (0, 0, 0)


def test_reachable():
    walls = [(2, c) for c in range(6)]
    got = np.asarray(bfs.reachable(_open(*walls), 0, 0))
    expected = np.zeros((6, 6), bool)
    expected[:2] = True
    np.testing.assert_array_equal(got, expected)


def test_exit_distance(build):
    assert int(bfs.exit_distance(build())) == 10
    assert int(bfs.exit_distance(build(player=(5, 5)))) == 0  # start == exit
    # Walls around the exit: unreachable counts as 0.
    assert int(bfs.exit_distance(build(blocks=[(4, 5), (5, 4)]))) == 0
    # Enemies and transmissions are ignored; blocks force a detour.
    st = build(player=(0, 0), exit=(0, 5), blocks=[(0, 2), (1, 2)],
               enemies=[{"type": 1, "row": 0, "col": 1}], transmissions=[{"row": 2, "col": 2}])
    assert int(bfs.exit_distance(st)) == 9
    # The player may stand on a block: the start is still expanded.
    st = build(player=(0, 2), exit=(0, 5), blocks=[(0, 2)])
    assert int(bfs.exit_distance(st)) == 3


