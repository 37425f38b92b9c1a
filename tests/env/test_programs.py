"""The 23 programs: cost, applicability and exact effects (rules §5)."""

import jax
import jax.numpy as jnp

from hackmatrix.env import rng
from hackmatrix.env.constants import (
    ANTI_V,
    ATK_PLUS,
    BLOCK,
    CALM,
    COL,
    CRASH,
    CRYPTOG,
    D_BOM,
    DAEMON,
    DEBUG,
    DELAY,
    EMPTY,
    ENEMY_MAX_HP,
    EXCH,
    GLITCH,
    HACK,
    KIND_NONE,
    NUM_PROGRAMS,
    POLY,
    PULL,
    PUSH,
    REDUC,
    RESET,
    ROW,
    SCORE,
    SHOW,
    SIPH_PLUS,
    STEP,
    UNDO,
    VIRUS,
    WAIT,
    WARP,
)
from hackmatrix.env.programs import apply_program, program_affordable, program_applicable
from hackmatrix.env.undo import push_snapshot
from tests.env.conftest_actions import enemy_list, make_state, player_tuple, transmission_list

KEY = jax.random.PRNGKey(0)
RICH = {"credits": 20, "energy": 20}
_apply = jax.jit(apply_program)
_applicable = jax.jit(program_applicable)


def _run(state, program, key=KEY):
    out, kills = _apply(key, state, program)
    return out, int(kills)


def _usable(state, program):
    return bool(_applicable(state)[program])


def _paid(state, out, credits, energy):
    """True iff exactly (credits, energy) left the player's purse."""
    return (int(state.player.credits - out.player.credits),
            int(state.player.energy - out.player.energy)) == (credits, energy)


def _positions(state):
    return [(r, c) for _, r, c, _, _ in enemy_list(state)]


def test_push_appendix_a_example_2_and_stacking():
    s = make_state(player=(3, 3), enemies=[{"type": VIRUS, "row": 4, "col": 4},
                                           {"type": DAEMON, "row": 5, "col": 4}], **RICH)
    assert _usable(s, PUSH) and not _usable(make_state(), PUSH)
    out, kills = _run(s, PUSH)
    assert _positions(out) == [(5, 5), (5, 4)] and kills == 0
    assert _paid(s, out, 0, 2)
    # An enemy with no candidate stays and claims nothing; a later one may stack on it.
    s = make_state(player=(3, 3), enemies=[{"type": VIRUS, "row": 5, "col": 5},
                                           {"type": GLITCH, "row": 4, "col": 4},
                                           {"type": DAEMON, "row": 3, "col": 1}])
    out, _ = _run(s, PUSH)
    assert _positions(out) == [(5, 5), (5, 5), (3, 0)]
    assert [e[4] for e in enemy_list(out)] == [False] * 3  # no stun, no damage


def test_pull_appendix_a_example_3_and_claims():
    s = make_state(player=(3, 3), enemies=[{"type": VIRUS, "row": 4, "col": 4},
                                           {"type": DAEMON, "row": 4, "col": 3}], energy=2)
    assert _usable(s, PULL) and not _usable(make_state(), PULL)
    out, kills = _run(s, PULL)
    assert _positions(out) == [(3, 4), (4, 3)] and kills == 0
    assert _paid(s, out, 0, 2) and int(out.player.energy) == 0
    # Blocks and transmissions are ignored; the first of two stacked enemies claims (1,1).
    s = make_state(player=(0, 0), enemies=[{"type": VIRUS, "row": 2, "col": 2},
                                           {"type": GLITCH, "row": 2, "col": 2}],
                   blocks=[{"row": 1, "col": 1, "kind": "data", "points": 1}],
                   transmissions=[{"row": 1, "col": 1}])
    out, _ = _run(s, PULL)
    assert _positions(out) == [(1, 1), (2, 2)]


def test_crash_removes_blocks_and_stacks_with_one_kill_per_cell():
    s = make_state(
        player=(2, 2), **RICH,
        blocks=[{"row": 1, "col": 1, "kind": "data", "points": 3, "siphoned": True},
                {"row": 3, "col": 3, "kind": "program", "program": WARP},
                {"row": 0, "col": 0, "kind": "data", "points": 2}],
        enemies=[{"type": VIRUS, "row": 3, "col": 2},
                 {"type": DAEMON, "row": 2, "col": 3, "from_scheduled": True},
                 {"type": GLITCH, "row": 4, "col": 4},
                 {"type": CRYPTOG, "row": 2, "col": 3},
                 {"type": DAEMON, "row": 3, "col": 2},
                 {"type": VIRUS, "row": 2, "col": 2}],
        transmissions=[{"row": 1, "col": 2, "timer": 2}, {"row": 0, "col": 2}],
    )
    out, kills = _run(s, CRASH)
    # (3,2): two unscheduled -> 1 kill; (2,3): first is scheduled -> 0; transmission (1,2) -> 1.
    assert kills == 2
    assert enemy_list(out) == [(GLITCH, 4, 4, 2, False), (VIRUS, 2, 2, 2, False)]
    assert transmission_list(out) == [(0, 2, 1, 0)]
    g = out.grid
    assert int(g.content[1, 1]) == EMPTY and int(g.content[3, 3]) == EMPTY
    assert int(g.block_kind[1, 1]) == KIND_NONE and int(g.block_program[3, 3]) == -1
    assert int(g.block_spawn[3, 3]) == 0 and bool(g.siphoned[1, 1])
    assert int(g.content[0, 0]) == BLOCK
    assert _paid(s, out, 3, 2)


def test_crash_applicability():
    assert not _usable(make_state(player=(2, 2)), CRASH)
    assert not _usable(make_state(player=(2, 2), enemies=[{"type": VIRUS, "row": 2, "col": 4}]),
                       CRASH)
    assert _usable(make_state(player=(2, 2), transmissions=[{"row": 3, "col": 1}]), CRASH)
    assert _usable(make_state(player=(0, 0), blocks=[{"row": 1, "col": 1, "kind": "data",
                                                      "points": 1}]), CRASH)


def _key_for(n_targets, index):
    """First key whose WARP draw over n_targets is `index`."""
    for seed in range(200):
        key = jax.random.PRNGKey(seed)
        if int(rng.warp_draw(key, n_targets)) == index:
            return key
    raise AssertionError("no key found")


def test_warp_to_an_enemy_removes_only_enemies_there():
    s = make_state(
        player=(0, 0), **RICH,
        enemies=[{"type": DAEMON, "row": 4, "col": 4, "from_scheduled": True},
                 {"type": VIRUS, "row": 4, "col": 4},
                 {"type": GLITCH, "row": 1, "col": 3}],
        transmissions=[{"row": 4, "col": 4, "timer": 3}, {"row": 2, "col": 0}],
    )
    # Target = the virus (index 1); RemoveAt takes both enemies on (4,4) and counts a kill only
    # if the first of them (the scheduled daemon) is unscheduled: 0 kills.
    out, kills = _run(s, WARP, _key_for(5, 1))
    assert player_tuple(out)[:2] == (4, 4)
    assert enemy_list(out) == [(GLITCH, 1, 3, 2, False)]
    assert transmission_list(out) == [(4, 4, 3, 0), (2, 0, 1, 0)]
    assert kills == 0
    assert _paid(s, out, 2, 2)


def test_warp_to_a_transmission_and_onto_a_block():
    s = make_state(
        player=(0, 0),
        enemies=[{"type": VIRUS, "row": 4, "col": 4}, {"type": GLITCH, "row": 2, "col": 2}],
        transmissions=[{"row": 4, "col": 4, "timer": 3}, {"row": 2, "col": 0}],
        blocks=[{"row": 2, "col": 2, "kind": "data", "points": 1}],
    )
    out, kills = _run(s, WARP, _key_for(4, 2))
    assert player_tuple(out)[:2] == (4, 4) and kills == 1
    assert enemy_list(out) == [(VIRUS, 4, 4, 2, False), (GLITCH, 2, 2, 2, False)]
    assert transmission_list(out) == [(2, 0, 1, 0)]
    out, kills = _run(s, WARP, _key_for(4, 1))
    assert player_tuple(out)[:2] == (2, 2) and kills == 1
    assert int(out.grid.content[2, 2]) == BLOCK
    assert not _usable(make_state(), WARP)
    assert _usable(make_state(transmissions=[{"row": 1, "col": 1}]), WARP)


def test_poly_keeps_damage_and_sweeps():
    s = make_state(
        player=(0, 0), **RICH,
        enemies=[{"type": DAEMON, "row": 1, "col": 1, "hp": 1},
                 {"type": VIRUS, "row": 2, "col": 2, "stunned": True, "from_siphon": True},
                 {"type": GLITCH, "row": 3, "col": 3, "hp": 1, "disabled": 1}],
    )
    draws = rng.poly_draws(KEY).tolist()
    out, kills = _run(s, POLY)
    # Whatever the draws, the 1-hp daemon (2 damage) becomes a 2-hp type and dies; the virus
    # (no damage) and the glitch (1 damage) survive with their damage carried over.
    new_virus = [DAEMON, GLITCH, CRYPTOG][draws[1]]
    new_glitch = [VIRUS, DAEMON, CRYPTOG][draws[2]]
    assert enemy_list(out) == [(new_virus, 2, 2, ENEMY_MAX_HP[new_virus], True),
                               (new_glitch, 3, 3, ENEMY_MAX_HP[new_glitch] - 1, False)]
    assert kills == 1
    assert bool(out.enemies.from_siphon[0]) and int(out.enemies.disabled[1]) == 1
    assert _paid(s, out, 1, 1)
    assert _usable(s, POLY) and not _usable(make_state(), POLY)


def test_wait_only_costs_energy():
    s = make_state(player=(1, 1), energy=1, enemies=[{"type": VIRUS, "row": 2, "col": 1}])
    out, kills = _run(s, WAIT)
    assert _paid(s, out, 0, 1) and kills == 0
    assert enemy_list(out) == enemy_list(s) and player_tuple(out)[:3] == (1, 1, 3)
    assert _usable(make_state(), WAIT)


def test_debug_hits_enemies_on_blocks():
    s = make_state(
        player=(0, 0), attack=2, **RICH,
        blocks=[{"row": 2, "col": 2, "kind": "data", "points": 1},
                {"row": 4, "col": 4, "kind": "program", "program": PUSH}],
        enemies=[{"type": GLITCH, "row": 2, "col": 2}, {"type": DAEMON, "row": 4, "col": 4},
                 {"type": VIRUS, "row": 3, "col": 3}],
    )
    assert _usable(s, DEBUG)
    out, kills = _run(s, DEBUG)
    assert enemy_list(out) == [(DAEMON, 4, 4, 1, True), (VIRUS, 3, 3, 2, False)] and kills == 1
    assert _paid(s, out, 3, 0)
    assert not _usable(make_state(enemies=[{"type": VIRUS, "row": 3, "col": 3}]), DEBUG)


def test_row_and_col_hit_without_line_of_sight():
    blocks = [{"row": 2, "col": 1, "kind": "data", "points": 1},
              {"row": 1, "col": 2, "kind": "data", "points": 1}]
    enemies = [{"type": VIRUS, "row": 2, "col": 0, "hp": 1}, {"type": DAEMON, "row": 2, "col": 5},
               {"type": GLITCH, "row": 0, "col": 2}, {"type": CRYPTOG, "row": 3, "col": 3}]
    s = make_state(player=(2, 2), blocks=blocks, enemies=enemies, **RICH)
    out, kills = _run(s, ROW)
    assert enemy_list(out) == [(DAEMON, 2, 5, 2, True), (GLITCH, 0, 2, 2, False),
                               (CRYPTOG, 3, 3, 2, False)] and kills == 1
    assert _paid(s, out, 3, 1)
    out, kills = _run(s, COL)
    assert enemy_list(out) == [(VIRUS, 2, 0, 1, False), (DAEMON, 2, 5, 3, False),
                               (GLITCH, 0, 2, 1, True), (CRYPTOG, 3, 3, 2, False)]
    assert kills == 0 and _paid(s, out, 3, 1)
    lone = make_state(player=(2, 2), enemies=[{"type": VIRUS, "row": 3, "col": 3}])
    assert not _usable(lone, ROW) and not _usable(lone, COL)
    assert _usable(s, ROW) and _usable(s, COL)


def test_undo_restores_the_snapshot_fields_only():
    before = make_state(
        player=(1, 1), credits=5, energy=2, data_siphons=1, score=3, hp=2, turn=4,
        enemies=[{"type": VIRUS, "row": 3, "col": 3, "from_siphon": True}],
        transmissions=[{"row": 4, "col": 0, "timer": 2, "from_scheduled": True}],
        blocks=[{"row": 2, "col": 2, "kind": "question", "points": 4}],
        resources=[(0, 3, 2, 0)],
    )
    snap = push_snapshot(before)
    g = snap.grid
    after = snap.replace(
        player=snap.player.replace(row=jnp.int32(2), col=jnp.int32(1), credits=jnp.int32(9),
                                   energy=jnp.int32(0), data_siphons=jnp.int32(0),
                                   score=jnp.int32(11), hp=jnp.int32(3), attack=jnp.int32(2),
                                   owned=snap.player.owned.at[UNDO].set(True)),
        enemies=snap.enemies.replace(count=jnp.int32(0), type=snap.enemies.type * 0,
                                     row=snap.enemies.row * 0, col=snap.enemies.col * 0,
                                     hp=snap.enemies.hp * 0,
                                     from_siphon=snap.enemies.from_siphon & False),
        grid=g.replace(siphoned=g.siphoned.at[2, 2].set(True), credits=g.credits * 0,
                       siphon_center=g.siphon_center.at[2, 1].set(True)),
        turn=jnp.int32(5), show=jnp.bool_(True), calm=jnp.bool_(True), atk_uses=jnp.int32(1),
        stage=jnp.int32(2), exit_row=jnp.int32(0), exit_col=jnp.int32(5),
        step_pending=jnp.bool_(True), sched_interval=jnp.int32(7), sched_next=jnp.int32(20),
        pending_spawns=jnp.int32(4),
    )
    assert _usable(after, UNDO) and not _usable(before, UNDO)
    out, kills = _run(after, UNDO)
    assert kills == 0
    assert jax.tree.all(jax.tree.map(jnp.array_equal, out.player, before.player))
    assert jax.tree.all(jax.tree.map(jnp.array_equal, out.enemies, before.enemies))
    assert jax.tree.all(jax.tree.map(jnp.array_equal, out.transmissions, before.transmissions))
    assert jax.tree.all(jax.tree.map(jnp.array_equal, out.grid, before.grid))
    assert (int(out.turn), bool(out.show), bool(out.calm)) == (4, False, False)
    assert int(out.atk_uses) == 0
    assert int(out.player.credits) == 5  # the 1-credit cost is undone by the restore
    assert (int(out.stage), int(out.exit_row), int(out.exit_col)) == (2, 0, 5)
    assert bool(out.step_pending)
    assert (int(out.sched_interval), int(out.sched_next), int(out.pending_spawns)) == (7, 20, 4)
    assert not bool(out.undo.valid)


def test_step_arms_the_skip():
    s = make_state(energy=3)
    out, _ = _run(s, STEP)
    assert bool(out.step_pending) and _paid(s, out, 0, 3) and _usable(s, STEP)


def test_siph_plus_adds_a_data_siphon():
    s = make_state(credits=5, data_siphons=1)
    out, _ = _run(s, SIPH_PLUS)
    assert int(out.player.data_siphons) == 2 and _paid(s, out, 5, 0) and _usable(s, SIPH_PLUS)


def test_exch_converts_four_credits():
    s = make_state(credits=4, energy=1)
    out, _ = _run(s, EXCH)
    assert (int(out.player.credits), int(out.player.energy)) == (0, 5)
    assert _usable(s, EXCH) and not _usable(make_state(credits=3), EXCH)


def test_show():
    s = make_state(credits=2)
    out, _ = _run(s, SHOW)
    assert bool(out.show) and _paid(s, out, 2, 0)
    assert _usable(s, SHOW) and not _usable(out, SHOW)


def test_reset_restores_hp():
    s = make_state(hp=1, energy=4)
    out, _ = _run(s, RESET)
    assert int(out.player.hp) == 3 and _paid(s, out, 0, 4)
    assert _usable(s, RESET) and not _usable(out, RESET)


def test_calm():
    s = make_state(**RICH)
    out, _ = _run(s, CALM)
    assert bool(out.calm) and _paid(s, out, 2, 4)
    assert _usable(s, CALM) and not _usable(out, CALM)


def test_d_bom_nearest_daemon_first_on_ties_then_hit_one_around():
    s = make_state(
        player=(0, 0), attack=3, **RICH,
        enemies=[{"type": DAEMON, "row": 3, "col": 3},
                 {"type": DAEMON, "row": 2, "col": 1, "from_scheduled": True},
                 {"type": DAEMON, "row": 1, "col": 2},
                 {"type": VIRUS, "row": 3, "col": 0, "hp": 1},
                 {"type": CRYPTOG, "row": 2, "col": 1},
                 {"type": GLITCH, "row": 4, "col": 1}],
    )
    out, kills = _run(s, D_BOM)
    # Target (2,1) is scheduled (no kill); the virus at (3,0) dies (1 kill); the cryptog on the
    # daemon's own cell and everything farther away are untouched; damage is 1, not attack.
    assert enemy_list(out) == [(DAEMON, 3, 3, 3, False), (DAEMON, 1, 2, 2, True),
                               (CRYPTOG, 2, 1, 2, False), (GLITCH, 4, 1, 2, False)]
    assert kills == 1 and _paid(s, out, 3, 0)
    s = make_state(player=(5, 5), enemies=[{"type": DAEMON, "row": 0, "col": 0}])
    out, kills = _run(s, D_BOM)
    assert enemy_list(out) == [] and kills == 1
    assert _usable(s, D_BOM)
    assert not _usable(make_state(enemies=[{"type": VIRUS, "row": 1, "col": 1}]), D_BOM)


def test_delay_adds_three_to_every_timer():
    s = make_state(transmissions=[{"row": 1, "col": 1, "timer": 1}, {"row": 2, "col": 2,
                                                                      "timer": 4}], **RICH)
    out, _ = _run(s, DELAY)
    assert transmission_list(out) == [(1, 1, 4, 0), (2, 2, 7, 0)] and _paid(s, out, 1, 2)
    assert int(out.transmissions.timer[2]) == 0
    assert _usable(s, DELAY) and not _usable(make_state(), DELAY)


def test_anti_v_hits_viruses_for_one():
    s = make_state(attack=3, **RICH, enemies=[
        {"type": VIRUS, "row": 1, "col": 1}, {"type": DAEMON, "row": 2, "col": 2},
        {"type": VIRUS, "row": 3, "col": 3, "hp": 1}])
    out, kills = _run(s, ANTI_V)
    assert enemy_list(out) == [(VIRUS, 1, 1, 1, True), (DAEMON, 2, 2, 3, False)] and kills == 1
    assert _paid(s, out, 3, 0)
    assert _usable(s, ANTI_V)
    assert not _usable(make_state(enemies=[{"type": DAEMON, "row": 1, "col": 1}]), ANTI_V)


def test_score_adds_eight_minus_stage():
    s = make_state(energy=5, score=2, stage=3)
    out, _ = _run(s, SCORE)
    assert int(out.player.score) == 7 and _paid(s, out, 0, 5)
    assert _usable(s, SCORE) and not _usable(make_state(stage=8), SCORE)


def test_reduc_lowers_unsiphoned_spawns():
    s = make_state(**RICH, blocks=[
        {"row": 1, "col": 1, "kind": "data", "points": 3},
        {"row": 2, "col": 2, "kind": "question", "program": SHOW},
        {"row": 3, "col": 3, "kind": "data", "points": 5, "spawn": 0},
        {"row": 4, "col": 4, "kind": "data", "points": 5, "spawn": 4, "siphoned": True}])
    out, _ = _run(s, REDUC)
    spawns = [int(out.grid.block_spawn[i, i]) for i in range(1, 5)]
    assert spawns == [2, 1, 0, 4] and _paid(s, out, 2, 1)
    assert _usable(s, REDUC)
    assert not _usable(make_state(blocks=[
        {"row": 3, "col": 3, "kind": "data", "points": 5, "spawn": 0},
        {"row": 4, "col": 4, "kind": "data", "points": 5, "spawn": 4, "siphoned": True}]), REDUC)


def test_atk_plus():
    s = make_state(**RICH, attack=3, atk_uses=1)
    out, _ = _run(s, ATK_PLUS)
    assert (int(out.player.attack), int(out.atk_uses)) == (4, 2) and _paid(s, out, 4, 4)
    assert _usable(s, ATK_PLUS) and not _usable(out, ATK_PLUS)


def test_hack_hits_enemies_on_siphoned_cells():
    s = make_state(
        attack=2, **RICH, siphoned=[(1, 1)],
        blocks=[{"row": 2, "col": 2, "kind": "data", "points": 1, "siphoned": True}],
        enemies=[{"type": DAEMON, "row": 1, "col": 1}, {"type": GLITCH, "row": 2, "col": 2},
                 {"type": VIRUS, "row": 3, "col": 3}],
    )
    out, kills = _run(s, HACK)
    assert enemy_list(out) == [(DAEMON, 1, 1, 1, True), (VIRUS, 3, 3, 2, False)] and kills == 1
    assert int(out.grid.content[2, 2]) == BLOCK and _paid(s, out, 2, 2)
    assert _usable(s, HACK) and not _usable(make_state(), HACK)


def test_affordable_is_an_exact_cost_check():
    affordable = program_affordable(make_state(credits=2, energy=1)).tolist()
    assert [i for i in range(NUM_PROGRAMS) if affordable[i]] == [
        POLY, WAIT, UNDO, SHOW, REDUC]


def test_jit_vmap_over_programs_matches_single_calls():
    s = make_state(
        player=(2, 2), hp=2, **RICH, siphoned=[(1, 2)],
        enemies=[{"type": DAEMON, "row": 2, "col": 4}, {"type": VIRUS, "row": 1, "col": 2}],
        transmissions=[{"row": 3, "col": 3}],
        blocks=[{"row": 3, "col": 2, "kind": "data", "points": 3}],
    )
    s = push_snapshot(s)
    keys = jax.random.split(KEY, NUM_PROGRAMS)
    batched = jax.jit(jax.vmap(apply_program, in_axes=(0, None, 0)))
    out, kills = batched(keys, s, jnp.arange(NUM_PROGRAMS))
    assert kills.tolist()[CRASH] == 2 and kills.tolist()[WAIT] == 0
    for program in range(NUM_PROGRAMS):
        single, single_kills = _run(s, program, keys[program])
        assert int(kills[program]) == single_kills
        batch_i = jax.tree.map(lambda x, i=program: x[i], out)
        assert jax.tree.all(jax.tree.map(jnp.array_equal, batch_i, single)), program
