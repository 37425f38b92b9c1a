"""Reference engine: new games and stage generation (rules §2.5, §4.5, §4.7)."""

import pytest
from refkit import enemy, key, make

from hackmatrix.env import rng
from hackmatrix.env.constants import (
    BLOCK,
    CORNERS,
    EXIT,
    KIND_PROGRAM,
    KIND_QUESTION,
    PICKUP,
    PROGRAM_SPAWN,
)
from hackmatrix.reference import Game, draws
from hackmatrix.reference.generation import generate_stage, in_line_of_fire
from hackmatrix.reference.geometry import all_cells, bfs_distances, orthogonal


def _check_stage(state):
    exit_cell = state.exit
    assert exit_cell in CORNERS and exit_cell != state.player.cell
    for corner in CORNERS:
        want = EXIT if corner == exit_cell else 0 if corner == state.player.cell else PICKUP
        assert state.cell(corner).content == want
    blocks = [c for c in all_cells() if state.cell(c).is_block]
    assert len(blocks) == 0 or 5 <= len(blocks) <= 11
    assert not set(blocks) & set(CORNERS)
    walk = [c for c in all_cells() if not state.cell(c).is_block]
    dist = bfs_distances((0, 0), lambda c: not state.cell(c).is_block and c != exit_cell)
    reach = set(dist) | {n for c in dist if c != exit_cell for n in orthogonal(c)
                         if not state.cell(n).is_block}
    assert set(walk) <= reach
    assert all(any(not state.cell(n).is_block for n in orthogonal(b)) for b in blocks)
    programs = [state.cell(b).program for b in blocks if state.cell(b).program >= 0]
    assert len(programs) == len(set(programs))
    for b in blocks:
        cell = state.cell(b)
        if cell.kind == KIND_PROGRAM or (cell.kind == KIND_QUESTION and cell.program >= 0):
            assert cell.spawn == PROGRAM_SPAWN[cell.program]
        else:
            assert cell.spawn == cell.points and 1 <= cell.points <= 9
    for c in all_cells():
        cell = state.cell(c)
        has_resource = (cell.credits > 0) + (cell.energy > 0)
        assert has_resource == (0 if cell.content in (BLOCK, EXIT) else 1)
        assert max(cell.credits, cell.energy) <= 3
    assert len(state.transmissions) == state.stage
    assert all(t.timer == 1 and not t.from_scheduled and not t.from_siphon
               for t in state.transmissions)


@pytest.mark.parametrize("seed", range(6))
def test_new_game_invariants(seed):
    g = Game.new(key(seed))
    s = g.state
    corner, bonus = draws.reset_draws(key(seed))
    assert s.player.cell == CORNERS[corner]
    p = s.player
    assert (p.credits, p.energy, p.data_siphons) == [(10, 0, 0), (0, 11, 0), (0, 0, 1)][bonus]
    assert (p.hp, p.attack, p.score, any(p.owned)) == (3, 1, 0, False)
    assert (s.stage, s.turn, s.sched_interval, s.sched_next, s.history) == (1, 0, 12, 12, [])
    exit_idx, count = draws.generation_header(key(seed))
    assert s.exit == [c for c in CORNERS if c != s.player.cell][exit_idx]
    assert sum(s.cell(c).is_block for c in all_cells()) in (0, count)
    _check_stage(s)


def test_generation_keeps_entities_and_avoids_their_cells():
    g = make(stage=5, player={"row": 5, "col": 5},
             enemies=[enemy("daemon", 2, 2, stunned=True), enemy("glitch", 3, 3)],
             transmissions=[{"row": 1, "col": 1, "timer": 2, "enemy_type": "virus"}],
             flags={"show": True, "calm": True, "atk_uses": 2}, undo={"turn": 0})
    generate_stage(g.state, key(9))
    s = g.state
    assert not s.cell((2, 2)).is_block and not s.cell((3, 3)).is_block
    assert not s.cell((1, 1)).is_block
    assert s.enemies[0].stunned and len(s.transmissions) == 1 + 5
    assert (s.show, s.calm, s.atk_uses, s.history) == (False, False, 0, [])


def test_line_of_fire_and_spawn_phases():
    g = make(player={"row": 2, "col": 2}, enemies=[enemy("virus", 2, 4)],
             blocks=[{"row": 4, "col": 2, "kind": "data", "points": 1}],
             transmissions=[{"row": 1, "col": 2, "timer": 1, "enemy_type": "virus"}])
    s = g.state
    assert in_line_of_fire(s, (2, 3)) and in_line_of_fire(s, (2, 4))
    assert not in_line_of_fire(s, (2, 5))  # behind the virus
    assert not in_line_of_fire(s, (5, 2))  # behind the block
    assert in_line_of_fire(s, (0, 2))  # transmissions do not block
    assert not in_line_of_fire(s, (3, 3))


def test_stage_spawns_use_their_own_occurrences():
    g = make(stage=2, player={"row": 0, "col": 0})
    generate_stage(g.state, key(4))
    tries0, type0 = draws.spawn_draws(key(4), rng.SPAWN_STAGE, 0)
    t = g.state.transmissions[0]
    assert t.enemy_type == type0
    assert (t.row, t.col) in tries0
