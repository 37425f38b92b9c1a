"""EnemyTurn (rules §4.6): hatching, attacks and moves, spawns, resets, snapshot, STEP skip."""

import jax
import jax.numpy as jnp
import numpy as np

from hackmatrix.env import enemy_turn as et
from hackmatrix.env import rng
from hackmatrix.env.constants import (
    CRYPTOG,
    DAEMON,
    GLITCH,
    MAX_ENEMIES,
    SPAWN_TRIES,
    VIRUS,
)

KEY = jax.random.key(7)
_turn = jax.jit(et.enemy_turn)


def _pos(st, i):
    return int(st.enemies.row[i]), int(st.enemies.col[i])


def _assert_same(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(x, y)


def _transmissions(st):
    t = st.transmissions
    return [
        (int(t.row[i]), int(t.col[i]), int(t.timer[i]), int(t.enemy_type[i]),
         bool(t.from_scheduled[i]), bool(t.from_siphon[i]))
        for i in range(int(t.count))
    ]


def test_appendix_a_example_6_virus(build):
    st = build(player=(0, 0), enemies=[{"type": VIRUS, "row": 4, "col": 0}])
    st = _turn(KEY, st)
    assert _pos(st, 0) == (2, 0) and int(st.player.hp) == 3 and int(st.turn) == 1
    st = _turn(jax.random.key(8), st)
    # Sub-step 0 moves it to (1, 0); sub-step 1 attacks.
    assert _pos(st, 0) == (1, 0) and int(st.player.hp) == 2 and int(st.turn) == 2


def test_virus_attacks_only_once(build):
    st = _turn(KEY, build(player=(0, 0), enemies=[{"type": VIRUS, "row": 1, "col": 0}]))
    assert _pos(st, 0) == (1, 0) and int(st.player.hp) == 2


def test_one_step_types_act_once_even_with_a_virus(build):
    st = build(player=(0, 0), enemies=[{"type": VIRUS, "row": 5, "col": 5},
                                       {"type": DAEMON, "row": 0, "col": 4},
                                       {"type": GLITCH, "row": 1, "col": 0}])
    st = _turn(KEY, st)
    assert _pos(st, 0) == (3, 5)  # (5,5) -> (4,5) -> (3,5)
    assert _pos(st, 1) == (0, 3)
    assert _pos(st, 2) == (1, 0)  # adjacent: attacked instead of moving
    assert int(st.player.hp) == 2


def test_damage_floors_at_zero_and_the_turn_still_completes(build):
    adjacent = [{"type": DAEMON, "row": r, "col": c} for r, c in ((3, 2), (1, 2), (2, 1), (2, 3))]
    st = build(
        player=(2, 2), hp=3,
        enemies=adjacent + [{"type": DAEMON, "row": 5, "col": 5}],
        transmissions=[{"row": 0, "col": 5, "enemy_type": CRYPTOG, "from_siphon": True}],
        turn=jnp.int32(11),
    )
    out = _turn(KEY, st)
    assert int(out.player.hp) == 0
    assert int(out.turn) == 12
    assert _pos(out, 4) == (4, 5)  # the far daemon still moved
    assert int(out.enemies.count) == 6 and int(out.enemies.type[5]) == CRYPTOG  # hatched
    assert int(out.transmissions.count) == 1 and bool(out.transmissions.from_scheduled[0])
    assert bool(out.undo.valid) and int(out.undo.player.hp) == 0


def test_disabled_and_stunned_enemies_are_inert_then_reset(build):
    st = build(player=(0, 0), enemies=[
        {"type": DAEMON, "row": 3, "col": 0, "disabled": 2},
        {"type": DAEMON, "row": 0, "col": 1, "stunned": True},
        {"type": VIRUS, "row": 1, "col": 0, "disabled": 1},
        {"type": DAEMON, "row": 0, "col": 4, "stunned": True},
    ])
    out = _turn(KEY, st)
    assert [_pos(out, i) for i in range(4)] == [(3, 0), (0, 1), (1, 0), (0, 4)]
    assert int(out.player.hp) == 3
    assert out.enemies.disabled[:4].tolist() == [1, 0, 0, 0]
    assert out.enemies.stunned[:4].tolist() == [False] * 4
    # Next turn they act: the two adjacent ones attack, the others move.
    out = _turn(KEY, out)
    assert int(out.player.hp) == 1
    assert _pos(out, 0) == (3, 0) and _pos(out, 3) == (0, 3)


def test_hatching_appends_in_list_order_with_flags_and_disabled(build):
    st = build(
        player=(0, 0), enemies=[{"type": DAEMON, "row": 5, "col": 5, "disabled": 3}],
        transmissions=[
            {"row": 2, "col": 2, "timer": 2, "enemy_type": VIRUS},
            {"row": 3, "col": 3, "timer": 1, "enemy_type": CRYPTOG, "from_siphon": True},
            {"row": 4, "col": 1, "timer": 3, "enemy_type": GLITCH},
            {"row": 1, "col": 4, "timer": 1, "enemy_type": DAEMON, "from_scheduled": True},
        ],
    )
    out = et.hatch_transmissions(st)
    e = out.enemies
    assert int(e.count) == 3
    assert e.type[:3].tolist() == [DAEMON, CRYPTOG, DAEMON]
    assert list(zip(e.row[:3].tolist(), e.col[:3].tolist())) == [(5, 5), (3, 3), (1, 4)]
    assert e.hp[:3].tolist() == [3, 2, 3]
    assert e.disabled[:3].tolist() == [3, 1, 1]
    assert e.from_siphon[:3].tolist() == [False, True, False]
    assert e.from_scheduled[:3].tolist() == [False, False, True]
    assert _transmissions(out) == [(2, 2, 1, VIRUS, False, False), (4, 1, 2, GLITCH, False, False)]
    # Canonical empty slots stay zero.
    assert int(e.type[3]) == 0 and int(out.transmissions.row[2]) == 0


def test_hatched_enemy_is_inert_in_its_turn_and_timers_count_down(build):
    st = build(player=(0, 0), transmissions=[{"row": 3, "col": 3, "enemy_type": VIRUS},
                                             {"row": 5, "col": 0, "timer": 2, "enemy_type": DAEMON}])
    out = _turn(KEY, st)
    assert int(out.enemies.count) == 1 and _pos(out, 0) == (3, 3)
    assert int(out.enemies.hp[0]) == 2 and int(out.enemies.disabled[0]) == 0
    assert _transmissions(out) == [(5, 0, 1, DAEMON, False, False)]
    out = _turn(KEY, out)
    # The virus moves twice; the daemon hatches (inert).
    assert _pos(out, 0) == (1, 3) and _pos(out, 1) == (5, 0)
    assert int(out.transmissions.count) == 0


def test_hatch_overflow_drops_the_enemy_but_consumes_the_transmission(build):
    st = build(
        player=(0, 0), enemies=[{"type": DAEMON, "row": 5, "col": 5, "disabled": 9}] * (MAX_ENEMIES - 1),
        transmissions=[{"row": 3, "col": 3, "enemy_type": VIRUS}, {"row": 4, "col": 4, "enemy_type": GLITCH}],
    )
    out = et.hatch_transmissions(st)
    assert int(out.enemies.count) == MAX_ENEMIES
    assert int(out.enemies.type[MAX_ENEMIES - 1]) == VIRUS
    assert int(out.transmissions.count) == 0


def test_step_skip_changes_only_step_pending(build):
    st = build(
        player=(0, 0), hp=2,
        enemies=[{"type": VIRUS, "row": 1, "col": 0}, {"type": DAEMON, "row": 4, "col": 4, "stunned": True},
                 {"type": GLITCH, "row": 3, "col": 0, "disabled": 2}],
        transmissions=[{"row": 2, "col": 2, "enemy_type": DAEMON}],
        turn=jnp.int32(20), sched_next=jnp.int32(12), pending_spawns=jnp.int32(3),
        step_pending=jnp.bool_(True),
    )
    out = _turn(KEY, st)
    assert not bool(out.step_pending)
    _assert_same(out, st.replace(step_pending=jnp.bool_(False)))


def test_scheduled_spawn_timing_and_calm(build, ref_spawn_cell):
    st = build(player=(2, 2), turn=jnp.int32(10), sched_next=jnp.int32(12),
               sched_interval=jnp.int32(9))
    out = _turn(KEY, st)
    assert int(out.transmissions.count) == 0 and int(out.sched_next) == 12
    key = jax.random.key(3)
    out2 = _turn(key, out)
    cell, etype = ref_spawn_cell(key, out, rng.SPAWN_SCHEDULED, 0)
    assert _transmissions(out2) == [(*cell, 1, etype, True, False)]
    assert int(out2.turn) == 12 and int(out2.sched_next) == 21
    calm = _turn(key, out.replace(calm=jnp.bool_(True)))
    assert int(calm.transmissions.count) == 0 and int(calm.sched_next) == 12


def test_overdue_schedule_spawns_once(build):
    st = build(player=(0, 0), turn=jnp.int32(30), sched_next=jnp.int32(5))
    out = _turn(KEY, st)
    assert int(out.transmissions.count) == 1 and int(out.sched_next) == 31 + 12


def test_queued_siphon_spawns_follow_the_scheduled_one(build, ref_spawn_cell):
    st = build(player=(0, 0), blocks=[(1, 1), (2, 2)], enemies=[{"type": DAEMON, "row": 5, "col": 3}],
               turn=jnp.int32(11), pending_spawns=jnp.int32(3))
    key = jax.random.key(11)
    out = _turn(key, st)
    assert int(out.pending_spawns) == 0
    # Replay on the post-move board: scheduled first, then siphon occurrences 0, 1, 2.
    board = st.replace(enemies=out.enemies)
    expected = []
    for event, k in ((rng.SPAWN_SCHEDULED, 0), (rng.SPAWN_SIPHON, 0), (rng.SPAWN_SIPHON, 1),
                     (rng.SPAWN_SIPHON, 2)):
        cell, etype = ref_spawn_cell(key, board, event, k)
        scheduled = event == rng.SPAWN_SCHEDULED
        expected.append((*cell, 1, etype, scheduled, not scheduled))
        t = board.transmissions
        board = board.replace(transmissions=t.replace(
            count=t.count + 1, row=t.row.at[t.count].set(cell[0]), col=t.col.at[t.count].set(cell[1])))
    assert _transmissions(out) == expected


def test_pending_spawns_beyond_the_free_cells_are_lost(build):
    blocks = [(r, c) for r in range(6) for c in range(6)
              if (r, c) not in ((0, 0), (0, 1), (3, 4), (5, 5))]
    st = build(player=(0, 0), blocks=blocks, pending_spawns=jnp.int32(300))
    out = _turn(KEY, st)
    assert int(out.pending_spawns) == 0
    cells = sorted((r, c) for r, c, *_ in _transmissions(out))
    assert cells == [(0, 1), (3, 4), (5, 5)]


def test_snapshot_pushed_after_the_turn(build):
    st = build(player=(0, 0), enemies=[{"type": DAEMON, "row": 3, "col": 3}])
    assert not bool(st.undo.valid)
    out = _turn(KEY, st)
    assert bool(out.undo.valid)
    assert int(out.undo.turn) == 1
    _assert_same(out.undo.enemies, out.enemies)
    _assert_same(out.undo.grid, out.grid)
    _assert_same(out.undo.player, out.player)


def test_acting_order_follows_the_permutation(build):
    # Both daemons want (0, 1). Whoever acts first takes it; the other goes around.
    st = build(player=(0, 0), enemies=[{"type": DAEMON, "row": 0, "col": 2},
                                       {"type": DAEMON, "row": 1, "col": 1}])
    outcomes = {}
    for seed in range(20):
        key = jax.random.key(seed)
        u = np.asarray(rng.enemy_order_draws(key, 0))
        first = 0 if u[0] <= u[1] else 1
        outcomes[first] = (_pos(_turn(key, st), 0), _pos(_turn(key, st), 1))
    assert outcomes == {0: ((0, 1), (1, 0)), 1: ((1, 2), (0, 1))}


def test_jit_and_vmap(build):
    a = build(player=(0, 0), enemies=[{"type": VIRUS, "row": 4, "col": 0}])
    b = build(player=(0, 0), enemies=[{"type": VIRUS, "row": 1, "col": 0}], step_pending=jnp.bool_(True))
    c = build(player=(0, 0), pending_spawns=jnp.int32(2), turn=jnp.int32(11))
    batch = jax.tree.map(lambda *x: jnp.stack(x), a, b, c)
    keys = jax.random.split(KEY, 3)
    out = jax.jit(jax.vmap(et.enemy_turn))(keys, batch)
    assert out.enemies.row[:2, 0].tolist() == [2, 1]
    assert out.player.hp.tolist() == [3, 3, 3]
    assert out.turn.tolist() == [1, 0, 12]
    assert out.transmissions.count.tolist() == [0, 0, 3]
    single = _turn(keys[2], c)
    _assert_same(jax.tree.map(lambda x: x[2], out), single)


def test_spawn_tries_constant_is_what_the_draws_assume():
    rows, _, _ = rng.spawn_draws(KEY, rng.SPAWN_SIPHON, 0)
    assert rows.shape == (2 * SPAWN_TRIES,)


def test_disabled_call_changes_nothing(build):
    st = build(player=(0, 0), enemies=[{"type": VIRUS, "row": 1, "col": 0}],
               transmissions=[{"row": 3, "col": 3}], pending_spawns=jnp.int32(2),
               turn=jnp.int32(11), step_pending=jnp.bool_(True))
    turn = jax.jit(et.enemy_turn)
    _assert_same(turn(KEY, st, False), st)
    st = st.replace(step_pending=jnp.bool_(False))
    _assert_same(turn(KEY, st, False), st)
