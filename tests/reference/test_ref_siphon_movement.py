"""Reference engine: siphoning, siphon quality and enemy movement (rules §6, §7.1)."""

from refkit import act, approx, enemy, make, nonzero, positions, prog

from hackmatrix.env.constants import DAEMON, GLITCH, KIND_DATA, KIND_PROGRAM, SHOW, SIPHON_ACTION
from hackmatrix.reference.siphon import siphon_quality

SIPHON = SIPHON_ACTION


def test_appendix_a5_siphon_quality_and_siphon_effects():
    g = make(player={"row": 2, "col": 1, "data_siphons": 2},
             blocks=[{"row": 2, "col": 2, "kind": "data", "points": 5}],
             resources=[{"row": 2, "col": 4, "credits": 3}])
    assert siphon_quality(g.state) == (True, 3, 0)
    reward, _, b = act(g, SIPHON, seed=1)
    assert nonzero(b) == {"step_penalty": -0.01, "score_gain": 2.5, "siphon_quality": -0.075}
    assert approx(reward) == 2.415
    s = g.state
    block = s.cell((2, 2))
    assert (block.kind, block.points, block.spawn, block.siphoned) == (KIND_DATA, 5, 0, True)
    assert (s.player.score, s.player.data_siphons) == (5, 1)
    assert (s.sched_interval, s.sched_next, s.pending_spawns) == (11, 17, 0)
    assert len(s.transmissions) == 5 and all(t.from_siphon for t in s.transmissions)
    scenario = g.to_scenario()
    assert scenario["siphoned"] == [[1, 1], [2, 0], [2, 1], [3, 1]]
    assert scenario["siphon_centers"] == [[2, 1]]


def test_siphon_reveals_question_blocks_and_collects_resources_once():
    g = make(player={"row": 2, "col": 2, "data_siphons": 2},
             blocks=[{"row": 3, "col": 2, "kind": "question", "program": "SHOW"},
                     {"row": 1, "col": 2, "kind": "question", "points": 4, "spawn": 2}],
             resources=[{"row": 2, "col": 1, "energy": 3}, {"row": 2, "col": 3, "credits": 2}],
             flags={"step_pending": True})
    _, _, b = act(g, SIPHON)
    s = g.state
    assert s.player.owned[SHOW] and s.player.score == 4
    assert (s.player.credits, s.player.energy) == (2, 3)
    up, down = s.cell((3, 2)), s.cell((1, 2))
    assert (up.kind, up.program, up.spawn, up.siphoned) == (KIND_PROGRAM, SHOW, 0, True)
    assert (down.kind, down.points, down.spawn) == (KIND_DATA, 4, 0)
    assert s.pending_spawns == 4  # STEP skipped the turn: queued spawns wait
    assert b["resource_gain"] == approx(0.25) and b["siphon_quality"] == 0.0
    _, _, b = act(g, SIPHON)  # everything already siphoned: nothing more
    assert (s.player.score, s.player.credits, s.player.energy) == (4, 2, 3)


def test_siphon_quality_without_payload_looks_everywhere():
    g = make(player={"data_siphons": 1},
             resources=[{"row": 0, "col": 1, "credits": 1}, {"row": 3, "col": 3, "credits": 3},
                        {"row": 4, "col": 3, "energy": 2}])
    _, _, b = act(g, SIPHON)
    assert b["siphon_quality"] == approx(-0.1) and b["resource_gain"] == approx(0.05)


def test_owned_program_payload_is_not_in_the_yield_but_still_spawns():
    g = make(player={"row": 2, "col": 2, "data_siphons": 1}, owned=["SHOW"],
             blocks=[{"row": 3, "col": 2, "kind": "program", "program": "SHOW"}],
             resources=[{"row": 0, "col": 0, "credits": 3}], flags={"step_pending": True})
    # Y has no data and no unowned program: every non-block cell is a candidate
    assert siphon_quality(g.state) == (True, 3, 0)
    act(g, SIPHON)
    assert g.state.pending_spawns == 2


def test_glitch_walks_through_blocks_daemon_goes_round():
    blocks = [{"row": 0, "col": 1, "kind": "data", "points": 1}]
    g = make(player={"energy": 1}, owned=["WAIT"], blocks=blocks,
             enemies=[enemy("glitch", 0, 2)])
    act(g, prog("WAIT"))
    assert positions(g) == [(GLITCH, 0, 1)]
    g = make(player={"energy": 1}, owned=["WAIT"], blocks=blocks,
             enemies=[enemy("daemon", 0, 2)])
    act(g, prog("WAIT"))
    assert positions(g) == [(DAEMON, 1, 2)]


def _corridor(*enemies):
    walls = [{"row": 1, "col": c, "kind": "data", "points": 1} for c in range(1, 6)]
    return make(player={"energy": 1}, owned=["WAIT"], blocks=walls, enemies=list(enemies))


def test_move_step_2_ignores_others_when_the_next_cell_is_free():
    g = _corridor(enemy("daemon", 0, 1), enemy("daemon", 0, 3))
    act(g, prog("WAIT"))
    assert positions(g) == [(DAEMON, 0, 1), (DAEMON, 0, 2)] and g.state.player.hp == 2


def test_move_step_3_greedy_when_the_first_step_is_taken():
    g = _corridor(enemy("daemon", 0, 1), enemy("daemon", 0, 2))
    act(g, prog("WAIT"))
    assert positions(g) == [(DAEMON, 0, 1), (DAEMON, 0, 3)]


def test_player_on_a_block_only_greedy_for_walkers_but_glitch_paths():
    blocks = [{"row": 2, "col": 2, "kind": "data", "points": 1}]
    g = make(player={"row": 2, "col": 2, "energy": 1}, owned=["WAIT"], blocks=blocks,
             enemies=[enemy("daemon", 4, 2), enemy("glitch", 2, 5)])
    act(g, prog("WAIT"))
    assert positions(g) == [(DAEMON, 3, 2), (GLITCH, 2, 4)]
