"""Reference engine: the 23 programs, their costs and their applicability (rules §5)."""

from refkit import act, approx, enemy, key, make, nonzero, positions, prog

from hackmatrix.env.constants import (
    CRYPTOG,
    DAEMON,
    EMPTY,
    GLITCH,
    NUM_PROGRAMS,
    PROGRAM_ACTION_OFFSET,
    PROGRAM_NAMES,
    VIRUS,
)
from hackmatrix.reference import draws

ALL = list(PROGRAM_NAMES)
RICH = {"credits": 50, "energy": 50}


def rich(**scenario):
    player = {**RICH, **scenario.pop("player", {})}
    return make(player=player, owned=ALL, **scenario)


def test_appendix_a2_push_collision():
    g = rich(player={"row": 3, "col": 3}, enemies=[enemy("virus", 4, 4), enemy("virus", 5, 4)])
    act(g, prog("PUSH"))
    assert positions(g) == [(VIRUS, 5, 5), (VIRUS, 5, 4)]


def test_appendix_a3_pull_diagonal_and_adjacent():
    g = rich(player={"row": 3, "col": 3}, enemies=[enemy("virus", 4, 4), enemy("daemon", 4, 3)])
    act(g, prog("PULL"))
    assert positions(g) == [(VIRUS, 3, 4), (DAEMON, 4, 3)]


def test_push_ignores_blocks_and_stacks_nothing_twice():
    g = rich(player={"row": 0, "col": 0}, enemies=[enemy("glitch", 0, 2), enemy("virus", 1, 0)],
             blocks=[{"row": 0, "col": 3, "kind": "data", "points": 2}])
    act(g, prog("PUSH"))
    assert positions(g) == [(GLITCH, 0, 3), (VIRUS, 2, 0)]
    assert g.state.enemies[0].hp == 2 and not g.state.enemies[0].stunned


def test_crash_clears_blocks_and_removes_at_most_one_kill_per_cell():
    g = rich(player={"row": 2, "col": 2},
             blocks=[{"row": 3, "col": 3, "kind": "data", "points": 4, "spawn": 0,
                      "siphoned": True}],
             enemies=[enemy("virus", 1, 1, from_scheduled=True), enemy("daemon", 1, 2),
                      enemy("virus", 1, 2), enemy("glitch", 4, 4)],
             transmissions=[{"row": 2, "col": 3, "timer": 2, "enemy_type": "virus"}])
    reward, _, b = act(g, prog("CRASH"))
    cell = g.state.cell((3, 3))
    assert (cell.content, cell.siphoned) == (EMPTY, True)
    assert positions(g) == [(GLITCH, 4, 4)] and g.state.transmissions == []
    assert nonzero(b) == {"step_penalty": -0.01, "kills": 0.6, "resource_gain": -0.25}
    assert approx(reward) == 0.34
    assert g.to_scenario()["siphoned"] == [[3, 3]]


def test_warp_onto_exit_completes_the_stage():
    g = rich(enemies=[enemy("daemon", 5, 5)])
    reward, done, b = act(g, prog("WARP"), seed=4)
    assert g.state.stage == 2 and g.state.player.cell == (5, 5)
    assert nonzero(b) == {"step_penalty": -0.01, "stage_completion": 1.0, "kills": 0.3,
                          "distance_shaping": 0.5, "resource_gain": -0.2,
                          "resource_holding": 0.96}
    assert approx(reward) == 2.55 and not done


def test_warp_removes_only_the_target_kind():
    seed = 2
    g = rich(enemies=[enemy("daemon", 3, 3, disabled=5)],
             transmissions=[{"row": 3, "col": 3, "timer": 4, "enemy_type": "virus"}])
    act(g, prog("WARP"), seed=seed)
    assert g.state.player.cell == (3, 3)
    if draws.warp_draw(key(seed), 2) == 0:
        assert g.state.enemies == [] and len(g.state.transmissions) == 1
    else:
        assert len(g.state.enemies) == 1 and g.state.transmissions == []


def test_poly_keeps_damage_and_sweeps():
    seed = 7
    g = rich(enemies=[enemy("daemon", 3, 3, hp=1, disabled=4), enemy("virus", 4, 4, stunned=True)])
    choice = draws.poly_draws(key(seed))
    act(g, prog("POLY"), seed=seed)
    new_virus_type = [DAEMON, GLITCH, CRYPTOG][choice[1]]
    survivors = [(e.type, e.hp, e.stunned) for e in g.state.enemies]
    expected_hp = {DAEMON: 3, GLITCH: 2, CRYPTOG: 2}[new_virus_type]
    assert survivors[-1] == (new_virus_type, expected_hp, True)
    assert len(survivors) == 1  # the 1-HP daemon dies: every other type has 2 max HP


def test_debug_row_col_hack_hit_with_attack():
    g = rich(player={"row": 2, "col": 2, "attack": 2},
             blocks=[{"row": 4, "col": 4, "kind": "data", "points": 1}],
             enemies=[enemy("daemon", 4, 4), enemy("virus", 4, 5)])
    _, _, b = act(g, prog("DEBUG"))
    assert [(e.hp, e.stunned) for e in g.state.enemies] == [(1, True), (2, False)]
    g = rich(player={"row": 2, "col": 2, "attack": 2},
             enemies=[enemy("virus", 2, 5), enemy("daemon", 2, 0), enemy("glitch", 3, 3)])
    _, _, b = act(g, prog("ROW"))
    assert positions(g) == [(DAEMON, 2, 0), (GLITCH, 3, 3)] and b["kills"] == approx(0.3)
    g = rich(player={"row": 2, "col": 2},
             enemies=[enemy("virus", 5, 2, hp=1), enemy("daemon", 2, 0)])
    act(g, prog("COL"))
    assert positions(g) == [(DAEMON, 2, 0)]
    g = rich(siphoned=[[1, 1]], enemies=[enemy("cryptog", 1, 1), enemy("virus", 1, 2)])
    act(g, prog("HACK"))
    assert [(e.hp, e.stunned) for e in g.state.enemies] == [(1, True), (2, False)]


def test_d_bom_targets_nearest_daemon_first_on_ties_and_blasts_neighbours():
    g = rich(enemies=[enemy("daemon", 0, 3), enemy("daemon", 2, 1), enemy("virus", 1, 4, hp=1),
                      enemy("glitch", 0, 2), enemy("daemon", 0, 3, from_scheduled=True)])
    _, _, b = act(g, prog("D_BOM"))
    # daemon (0,3) and (2,1) are both at distance 3: the first is the target; the daemon
    # stacked on the target's own cell is outside the 8-neighbourhood and untouched
    assert [(e.type, e.row, e.col, e.hp) for e in g.state.enemies] == [
        (DAEMON, 2, 1, 3), (GLITCH, 0, 2, 1), (DAEMON, 0, 3, 3)]
    assert b["kills"] == approx(0.6)


def test_anti_v_delay_score_reduc_atk_exch_siph_show_calm():
    g = rich(stage=3, enemies=[enemy("virus", 3, 3), enemy("daemon", 4, 4)],
             transmissions=[{"row": 1, "col": 1, "timer": 2, "enemy_type": "glitch"}],
             blocks=[{"row": 2, "col": 2, "kind": "data", "points": 3},
                     {"row": 2, "col": 3, "kind": "program", "program": "WAIT", "spawn": 0},
                     {"row": 2, "col": 4, "kind": "question", "program": "SHOW"},
                     {"row": 3, "col": 4, "kind": "data", "points": 5, "spawn": 0,
                      "siphoned": True}])
    act(g, prog("ANTI-V"))
    assert [(e.hp, e.stunned) for e in g.state.enemies] == [(1, True), (3, False)]
    act(g, prog("DELAY"))
    assert g.state.transmissions[0].timer == 5
    _, _, b = act(g, prog("SCORE"))
    assert g.state.player.score == 5 and b["score_gain"] == 2.5
    act(g, prog("REDUC"))
    assert [g.state.cell(c).spawn for c in ((2, 2), (2, 3), (2, 4), (3, 4))] == [2, 0, 1, 0]
    act(g, prog("ATK+"))
    act(g, prog("ATK+"))
    assert (g.state.player.attack, g.state.atk_uses) == (3, 2)
    assert not g.action_mask()[prog("ATK+")]
    credits, energy = g.state.player.credits, g.state.player.energy
    _, _, b = act(g, prog("EXCH"))
    assert (g.state.player.credits, g.state.player.energy) == (credits - 4, energy + 4)
    assert b["resource_gain"] == 0.0
    _, _, b = act(g, prog("SIPH+"))
    assert g.state.player.data_siphons == 1 and b["data_siphon"] == 0.0
    act(g, prog("SHOW"))
    act(g, prog("CALM"))
    assert g.state.show and g.state.calm
    mask = g.action_mask()
    assert not mask[prog("SHOW")] and not mask[prog("CALM")]


def test_reset_and_program_waste():
    g = rich(player={"hp": 2})
    reward, _, b = act(g, prog("RESET"))
    assert g.state.player.hp == 3
    assert nonzero(b) == {"step_penalty": -0.01, "resource_gain": -0.2, "hp_recovery": 1.0,
                          "program_waste": -0.3}
    assert approx(reward) == 0.49
    assert not g.action_mask()[prog("RESET")]


def test_undo_restores_the_snapshot_including_a_reset_hp():
    snap = {"player": {"hp": 1, "credits": 1, "energy": 4, "row": 1, "col": 0}, "owned": ["RESET",
            "UNDO"], "turn": 3, "enemies": [enemy("virus", 4, 4, from_siphon=True)],
            "pickups": [[0, 5]]}
    g = make(turn=3, player={"hp": 1, "credits": 1, "energy": 4, "row": 1, "col": 0},
             owned=["RESET", "UNDO"], enemies=[enemy("virus", 4, 4, from_siphon=True)],
             pickups=[[0, 5]], undo=snap)
    act(g, prog("RESET"))
    assert g.state.player.hp == 3
    reward, _, b = act(g, prog("UNDO"))
    p = g.state.player
    assert (p.hp, p.credits, p.energy) == (1, 1, 4) and g.state.history == []
    # RESET spent 4 energy, UNDO 1 credit; the restore gives both back: +4 energy vs before UNDO
    assert nonzero(b) == {"step_penalty": -0.01, "damage_penalty": -2.0, "resource_gain": 0.2}
    assert approx(reward) == -1.81
    assert g.state.enemies[0].from_siphon  # [D2]
    assert not g.action_mask()[prog("UNDO")]


def test_applicability_of_every_program():
    empty = rich()
    assert [PROGRAM_NAMES[i] for i in range(NUM_PROGRAMS)
            if empty.action_mask()[PROGRAM_ACTION_OFFSET + i]] == [
        "WAIT", "STEP", "SIPH+", "EXCH", "SHOW", "CALM", "SCORE", "ATK+"]
    busy = rich(player={"row": 2, "col": 2, "hp": 2}, turn=1,
                blocks=[{"row": 3, "col": 3, "kind": "data", "points": 1}],
                enemies=[enemy("daemon", 3, 3), enemy("virus", 2, 5), enemy("glitch", 5, 2)],
                siphoned=[[0, 0]],
                transmissions=[{"row": 0, "col": 4, "timer": 1, "enemy_type": "virus"}],
                undo={"turn": 1})
    assert all(busy.action_mask()[PROGRAM_ACTION_OFFSET:])
    poor = make(owned=ALL, player={"credits": 3, "energy": 1},
                enemies=[enemy("virus", 1, 1)])
    assert [PROGRAM_NAMES[i] for i in range(NUM_PROGRAMS)
            if poor.action_mask()[PROGRAM_ACTION_OFFSET + i]] == [
        "POLY", "WAIT", "SHOW", "ANTI-V"]
    # WAIT needs ownership too
    assert not make(player=RICH).action_mask()[prog("WAIT")]
