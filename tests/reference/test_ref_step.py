"""Reference engine: direction actions, the enemy turn, stage completion, death (rules §4, §8)."""

from refkit import act, approx, enemy, make, nonzero, positions, prog

from hackmatrix.env.constants import DAEMON, EMPTY, RIGHT, SIPHON_ACTION, UP, VIRUS

SIPHON = SIPHON_ACTION
WAIT = prog("WAIT")


def test_attack_prefers_transmission_on_the_same_cell():
    g = make(enemies=[enemy("daemon", 3, 0, disabled=2)],
             transmissions=[{"row": 3, "col": 0, "timer": 3, "enemy_type": "virus"}])
    reward, done, b = act(g, UP)
    assert g.state.transmissions == [] and positions(g) == [(DAEMON, 3, 0)]
    assert g.state.enemies[0].hp == 3
    assert nonzero(b) == {"step_penalty": -0.01, "kills": 0.3}
    assert approx(reward) == 0.29 and not done


def test_attack_hits_first_enemy_in_line_and_stuns_until_end_of_next_turn():
    g = make(enemies=[enemy("daemon", 0, 3), enemy("virus", 0, 4)])
    _, _, b = act(g, RIGHT)
    d = g.state.enemies[0]
    assert (d.hp, d.stunned, d.row, d.col) == (2, False, 0, 3)  # stunned: skipped, then cleared
    assert g.state.player.cell == (0, 0) and b["kills"] == 0


def test_killing_a_scheduled_enemy_is_not_a_kill():
    g = make(enemies=[enemy("virus", 0, 2, hp=1, from_scheduled=True)])
    _, _, b = act(g, RIGHT)
    assert g.state.enemies == [] and b["kills"] == 0


def test_block_stops_the_scan_and_the_player_moves():
    g = make(enemies=[enemy("daemon", 0, 3, disabled=3)],
             blocks=[{"row": 0, "col": 2, "kind": "data", "points": 3}])
    act(g, RIGHT)
    assert g.state.player.cell == (0, 1) and g.state.enemies[0].hp == 3


def test_enemy_on_a_block_is_hit_and_validates_the_direction():
    g = make(enemies=[enemy("glitch", 0, 1, disabled=3)],
             blocks=[{"row": 0, "col": 1, "kind": "data", "points": 3}])
    assert g.action_mask()[RIGHT]
    act(g, RIGHT)
    assert g.state.enemies[0].hp == 1 and g.state.player.cell == (0, 0)


def test_moving_onto_a_pickup_collects_a_data_siphon():
    g = make(pickups=[[1, 0]], resources=[{"row": 1, "col": 0, "credits": 2}])
    reward, _, b = act(g, UP)
    p = g.state.player
    assert (p.row, p.col, p.data_siphons, p.credits) == (1, 0, 1, 0)  # resources stay
    assert g.state.cell((1, 0)).content == EMPTY and g.state.cell((1, 0)).credits == 2
    assert nonzero(b) == {"step_penalty": -0.01, "data_siphon": 1.0, "distance_shaping": 0.05}
    assert approx(reward) == 1.04


def test_appendix_a1_movement_tie_break():
    g = make(player={"row": 4, "col": 3, "energy": 1}, owned=["WAIT"],
             enemies=[enemy("daemon", 5, 5)])
    act(g, WAIT)
    assert positions(g) == [(DAEMON, 4, 5)]


def test_appendix_a6_virus_moves_twice_then_moves_and_attacks():
    g = make(player={"energy": 2}, owned=["WAIT"], enemies=[enemy("virus", 4, 0)])
    act(g, WAIT)
    assert positions(g) == [(VIRUS, 2, 0)] and g.state.player.hp == 3
    _, _, b = act(g, WAIT)
    assert positions(g) == [(VIRUS, 1, 0)] and g.state.player.hp == 2
    assert b["damage_penalty"] == -1.0


def test_enemy_attacks_at_most_once_per_turn():
    g = make(player={"row": 2, "col": 2, "energy": 1}, owned=["WAIT"],
             enemies=[enemy("virus", 2, 3), enemy("daemon", 3, 2)])
    act(g, WAIT)
    assert g.state.player.hp == 1
    assert positions(g) == [(VIRUS, 2, 3), (DAEMON, 3, 2)]


def test_transmission_hatches_inert_then_acts():
    g = make(player={"energy": 2}, owned=["WAIT"],
             transmissions=[{"row": 3, "col": 3, "timer": 1, "enemy_type": "daemon",
                             "from_siphon": True},
                            {"row": 4, "col": 4, "timer": 3, "enemy_type": "virus"}])
    act(g, WAIT)
    e = g.state.enemies[0]
    assert (e.type, e.row, e.col, e.hp, e.disabled, e.from_siphon) == (DAEMON, 3, 3, 3, 0, True)
    assert [(t.row, t.col, t.timer) for t in g.state.transmissions] == [(4, 4, 2)]
    act(g, WAIT)
    assert positions(g) == [(DAEMON, 2, 3)]


def test_scheduled_spawn_and_calm():
    g = make(player={"energy": 1}, owned=["WAIT"], schedule={"interval": 7, "next": 1})
    act(g, WAIT, seed=3)
    t = g.state.transmissions
    assert len(t) == 1 and t[0].from_scheduled and not t[0].from_siphon and t[0].timer == 1
    assert (g.state.turn, g.state.sched_next) == (1, 8)
    calm = make(player={"energy": 1}, owned=["WAIT"], schedule={"next": 1},
                flags={"calm": True})
    act(calm, WAIT, seed=3)
    assert calm.state.transmissions == [] and calm.state.sched_next == 1


def test_queued_siphon_spawns_appear_after_the_moves():
    g = make(player={"energy": 1}, owned=["WAIT"], pending_spawns=3)
    act(g, WAIT, seed=5)
    t = g.state.transmissions
    assert len(t) == 3 and all(x.from_siphon and not x.from_scheduled for x in t)
    assert len({(x.row, x.col) for x in t}) == 3 and g.state.pending_spawns == 0
    assert all((x.row, x.col) != (0, 0) for x in t)


def test_step_skips_the_whole_enemy_turn():
    g = make(player={"energy": 4}, owned=["WAIT", "STEP"], pending_spawns=2,
             enemies=[enemy("daemon", 3, 3, stunned=True)],
             transmissions=[{"row": 4, "col": 4, "timer": 1, "enemy_type": "virus"}])
    act(g, prog("STEP"))
    assert g.state.step_pending
    act(g, WAIT)
    s = g.state
    assert (s.turn, s.step_pending, s.pending_spawns, s.history) == (0, False, 2, [])
    assert len(s.transmissions) == 1 and s.enemies[0].stunned and positions(g) == [(DAEMON, 3, 3)]


def test_appendix_a4_exit_reward_and_next_stage():
    g = make(stage=3, player={"row": 5, "col": 4, "hp": 2, "credits": 10, "energy": 5},
             schedule={"interval": 10, "next": 3})
    reward, done, b = act(g, RIGHT, seed=11)
    assert nonzero(b) == {"step_penalty": -0.01, "stage_completion": 4.0,
                          "distance_shaping": 0.05, "hp_recovery": 1.0, "resource_holding": 0.15}
    assert approx(reward) == 5.19 and not done
    s = g.state
    assert (s.stage, s.turn, s.sched_interval, s.sched_next, s.player.hp) == (4, 0, 9, 9, 3)
    assert s.player.cell == (5, 5) and s.exit != (5, 5) and s.history == []
    assert len(s.transmissions) == 4 and all(t.timer == 1 for t in s.transmissions)


def test_stage_8_completion_wins():
    g = make(stage=8, player={"row": 5, "col": 4, "score": 7})
    reward, done, b = act(g, RIGHT)
    assert done and g.state.won and g.state.stage == 8
    assert b["stage_completion"] == 100.0 and b["victory"] == 1200.0
    assert approx(reward) == approx(-0.01 + 100 + 0.05 + 1200)


def test_appendix_a7_death_penalty_and_siphon_death():
    g = make(stage=4, player={"row": 2, "col": 2, "hp": 1, "energy": 1}, owned=["WAIT"],
             enemies=[enemy("daemon", 2, 3)])
    reward, done, b = act(g, WAIT)
    assert done and g.state.done
    assert nonzero(b) == {"step_penalty": -0.01, "death_penalty": -3.5, "damage_penalty": -1.0,
                          "resource_gain": -0.05}  # WAIT costs 1 energy
    assert approx(reward) == -4.56
    g = make(player={"row": 2, "col": 2, "hp": 1, "energy": 1}, owned=["WAIT"],
             enemies=[enemy("daemon", 2, 3), enemy("glitch", 1, 2, from_siphon=True, disabled=1)])
    _, _, b = act(g, WAIT)
    assert b["siphon_death_penalty"] == -10.0 and b["death_penalty"] == 0.0


def test_distance_shaping_uses_the_post_step_grid():
    g = make(player={"row": 0, "col": 4}, enemies=[enemy("daemon", 0, 0, disabled=2)],
             blocks=[{"row": 1, "col": 4, "kind": "data", "points": 1}])
    _, _, b = act(g, RIGHT)  # d0 = 6 (around the block), d1 = 5
    assert b["distance_shaping"] == approx(0.05)


def test_invalid_action_changes_nothing_but_ends_the_episode():
    g = make(player={"credits": 9})
    before = g.to_scenario()
    reward, done, b = act(g, SIPHON)
    assert (reward, done) == (0.0, True) and nonzero(b) == {}
    assert g.to_scenario() == {**before, "done": True}
    reward, done, b = act(g, UP)  # a finished episode accepts nothing more
    assert (reward, done, g.state.player.cell) == (0.0, True, (0, 0)) and nonzero(b) == {}
