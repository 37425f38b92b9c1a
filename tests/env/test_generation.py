"""Stage generation, new games and SpawnTransmission (rules §2.5, §4.5, §4.7)."""

from collections import deque

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hackmatrix.env import generation as gen
from hackmatrix.env import rng
from hackmatrix.env.constants import (
    BLOCK,
    CORNERS,
    CRYPTOG,
    DAEMON,
    EMPTY,
    EXIT,
    GLITCH,
    KIND_DATA,
    KIND_NONE,
    KIND_PROGRAM,
    KIND_QUESTION,
    MAX_TRANSMISSIONS,
    NUM_PROGRAMS,
    PICKUP,
    PROGRAM_SPAWN,
    VIRUS,
)

KEY = jax.random.key(5)


def _lane(i, tree):
    """Element i of a batched pytree."""
    return jax.tree.map(lambda x: x[i], tree)

_new_game = jax.jit(gen.new_game)
_generate_stage = jax.jit(gen.generate_stage)
_block_draws = jax.jit(lambda key, a, k, n, m: rng.block_draws(rng.block_key(key, a, k), n, m))


# ----------------------------------------------------------------------------------------------
# Plain-Python reference of GenerateStage (rules §4.5), fed by the same rng functions.

def _neighbours(r, c):
    for dr, dc in ((1, 0), (-1, 0), (0, -1), (0, 1)):
        if 0 <= r + dr < 6 and 0 <= c + dc < 6:
            yield r + dr, c + dc


def _acceptable(blocks, exit_cell):
    seen = {(0, 0)}
    queue = deque([(0, 0)])
    while queue:
        cell = queue.popleft()
        if cell == exit_cell and cell != (0, 0):
            continue
        for n in _neighbours(*cell):
            if n not in blocks and n not in seen:
                seen.add(n)
                queue.append(n)
    connected = all(cell in seen for cell in np.ndindex(6, 6) if cell not in blocks)
    breathing = all(any(n not in blocks for n in _neighbours(*b)) for b in blocks)
    return connected and breathing


def _ref_generate(key, st, ref_spawn_cell):
    """Return (exit, pickups, blocks {cell: (kind, points, program, spawn)}, resources, attempts)."""
    exit_i, count = (int(x) for x in rng.generation_header(key))
    player = (int(st.player.row), int(st.player.col))
    others = [c for c in CORNERS if c != player]
    exit_cell = others[exit_i]
    pickups = [c for c in others if c != exit_cell]
    taken = {(int(st.enemies.row[i]), int(st.enemies.col[i])) for i in range(int(st.enemies.count))}
    taken |= {(int(st.transmissions.row[i]), int(st.transmissions.col[i]))
              for i in range(int(st.transmissions.count))}
    blocks = {}
    for attempt in range(100):
        blocks, used = {}, []
        for k in range(count):
            eligible = [c for c in np.ndindex(6, 6)
                        if c not in CORNERS and c not in taken and c not in blocks]
            if not eligible:
                break
            ci, is_data, is_q, p, pi = (int(x) for x in _block_draws(
                key, attempt, k, len(eligible), NUM_PROGRAMS - len(used)))
            if is_data:
                kind, points, program, spawn = KIND_DATA, p, -1, p
            else:
                q = [x for x in range(NUM_PROGRAMS) if x not in used][pi]
                used.append(q)
                kind, points, program, spawn = KIND_PROGRAM, 0, q, PROGRAM_SPAWN[q]
            blocks[eligible[ci]] = (KIND_QUESTION if is_q else kind, points, program, spawn)
        if _acceptable(blocks, exit_cell):
            break
    else:
        blocks = {}
    u, bit = (np.asarray(x) for x in rng.resource_draws(key))
    resources = {}
    for cell in np.ndindex(6, 6):
        if cell in blocks or cell == exit_cell:
            continue
        amount = 1 if u[cell] < 0.45 else 2 if u[cell] < 0.90 else 3
        resources[cell] = ("credits" if bit[cell] else "energy", amount)
    return exit_cell, pickups, blocks, resources, attempt + 1


def _check_against_reference(key, st, out, ref_spawn_cell):
    exit_cell, pickups, blocks, resources, attempts = _ref_generate(key, st, ref_spawn_cell)
    g = out.grid
    assert (int(out.exit_row), int(out.exit_col)) == exit_cell
    expected_content = np.full((6, 6), EMPTY)
    expected_content[exit_cell] = EXIT
    for p in pickups:
        expected_content[p] = PICKUP
    for cell in blocks:
        expected_content[cell] = BLOCK
    np.testing.assert_array_equal(np.asarray(g.content), expected_content)
    for cell in np.ndindex(6, 6):
        kind, points, program, spawn = blocks.get(cell, (KIND_NONE, 0, -1, 0))
        got = (int(g.block_kind[cell]), int(g.block_points[cell]), int(g.block_program[cell]),
               int(g.block_spawn[cell]))
        assert got == (kind, points, program, spawn), cell
        name, amount = resources.get(cell, (None, 0))
        assert int(g.credits[cell]) == (amount if name == "credits" else 0), cell
        assert int(g.energy[cell]) == (amount if name == "energy" else 0), cell
    # Transmissions: `stage` spawns on the generated board, appended after the old ones.
    board = st.replace(grid=g, exit_row=out.exit_row, exit_col=out.exit_col)
    old = int(st.transmissions.count)
    for k in range(int(st.stage)):
        cell, etype = ref_spawn_cell(key, board, rng.SPAWN_STAGE, k)
        t = board.transmissions
        if cell is not None:
            board = board.replace(transmissions=t.replace(
                count=t.count + 1, row=t.row.at[t.count].set(cell[0]),
                col=t.col.at[t.count].set(cell[1]), enemy_type=t.enemy_type.at[t.count].set(etype),
                timer=t.timer.at[t.count].set(1)))
    for a, b in zip(jax.tree.leaves(out.transmissions), jax.tree.leaves(board.transmissions)):
        np.testing.assert_array_equal(a, b)
    assert int(out.transmissions.count) == old + int(st.stage)
    return attempts


def test_new_game_matches_reference(ref_spawn_cell):
    attempts = []
    for seed in range(6):
        key = jax.random.key(seed)
        out = _new_game(key)
        corner = int(rng.reset_draws(key)[0])
        assert (int(out.player.row), int(out.player.col)) == CORNERS[corner]
        st = out.replace(transmissions=jax.tree.map(jnp.zeros_like, out.transmissions))
        attempts.append(_check_against_reference(key, st, out, ref_spawn_cell))
    # The seeds exercise rejected attempts too.
    assert max(attempts) > 1, attempts


def test_later_stage_keeps_entities_and_avoids_their_cells(build, ref_spawn_cell):
    undo_set = build().undo.replace(valid=jnp.bool_(True))
    st = build(
        player=(5, 0), hp=2, stage=jnp.int32(3), sched_interval=jnp.int32(10),
        enemies=[{"type": DAEMON, "row": 2, "col": 2, "stunned": True, "disabled": 1},
                 {"type": GLITCH, "row": 3, "col": 4, "from_siphon": True}],
        transmissions=[{"row": 1, "col": 3, "timer": 4, "enemy_type": VIRUS}],
        pending_spawns=jnp.int32(7), turn=jnp.int32(40), sched_next=jnp.int32(44),
        show=jnp.bool_(True), calm=jnp.bool_(True), step_pending=jnp.bool_(True),
        atk_uses=jnp.int32(2), undo=undo_set,
    )
    for seed in (1, 2):
        key = jax.random.key(seed)
        out = _generate_stage(key, st)
        _check_against_reference(key, st, out, ref_spawn_cell)
        for a, b in zip(jax.tree.leaves(out.enemies), jax.tree.leaves(st.enemies)):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(jax.tree.leaves(out.player), jax.tree.leaves(st.player)):
            np.testing.assert_array_equal(a, b)
        assert int(out.grid.content[2, 2]) != BLOCK and int(out.grid.content[3, 4]) != BLOCK
        assert int(out.grid.content[1, 3]) != BLOCK
        assert (int(out.turn), int(out.sched_next), int(out.pending_spawns)) == (0, 10, 7)
        assert not (bool(out.show) or bool(out.calm) or bool(out.step_pending))
        assert int(out.atk_uses) == 0 and not bool(out.undo.valid)
        assert int(out.transmissions.count) == 4 and int(out.transmissions.timer[0]) == 4


def test_generation_invariants_over_many_seeds():
    n = 256
    keys = jax.random.split(jax.random.key(123), n)
    out = jax.jit(jax.vmap(gen.new_game))(keys)
    o = jax.tree.map(np.asarray, out)
    bonuses = set()
    for i in range(n):
        g = _lane(i, o.grid)
        player = (int(o.player.row[i]), int(o.player.col[i]))
        exit_cell = (int(o.exit_row[i]), int(o.exit_col[i]))
        assert player in CORNERS and exit_cell in CORNERS and exit_cell != player
        assert g.content[player] == EMPTY and g.content[exit_cell] == EXIT
        for c in CORNERS:
            if c not in (player, exit_cell):
                assert g.content[c] == PICKUP
        block = g.content == BLOCK
        n_blocks = int(block.sum())
        assert n_blocks == 0 or 5 <= n_blocks <= 11
        assert _acceptable({c for c in np.ndindex(6, 6) if block[c]}, exit_cell)
        assert ((g.block_kind != KIND_NONE) == block).all()
        progs = g.block_program[block & (g.block_program >= 0)]
        assert len(set(progs.tolist())) == len(progs)
        data = block & (g.block_program < 0)
        assert ((g.block_points[data] >= 1) & (g.block_points[data] <= 9)).all()
        assert (g.block_spawn[data] == g.block_points[data]).all()
        assert (g.block_spawn[block & ~data] == np.array(PROGRAM_SPAWN)[progs]).all()
        assert not (g.block_kind[data] == KIND_PROGRAM).any()
        assert not (g.block_kind[block & ~data] == KIND_DATA).any()
        has_resource = (g.credits > 0) | (g.energy > 0)
        assert not ((g.credits > 0) & (g.energy > 0)).any()
        holds = (g.content == EMPTY) | (g.content == PICKUP)
        np.testing.assert_array_equal(has_resource, holds)
        assert (np.maximum(g.credits, g.energy)[holds] <= 3).all()
        assert not g.siphoned.any() and not g.siphon_center.any()
        t = _lane(i, o.transmissions)
        assert int(t.count) == 1 and int(t.timer[0]) == 1
        cell = (int(t.row[0]), int(t.col[0]))
        assert cell != player and g.content[cell] != BLOCK
        assert not t.from_scheduled[0] and not t.from_siphon[0]
        p = _lane(i, o.player)
        bonus = (int(p.credits), int(p.energy), int(p.data_siphons))
        assert bonus in ((10, 0, 0), (0, 11, 0), (0, 0, 1))
        bonuses.add(bonus)
        assert (int(p.hp), int(p.attack), int(p.score)) == (3, 1, 0) and not p.owned.any()
    assert len(bonuses) == 3
    assert (o.stage == 1).all() and (o.turn == 0).all()
    assert (o.sched_interval == 12).all() and (o.sched_next == 12).all()
    assert (o.enemies.count == 0).all() and (o.pending_spawns == 0).all()
    assert not o.undo.valid.any()
    # Blocks and questions both occur, and the counts cover the range.
    counts = (o.grid.content == BLOCK).sum(axis=(1, 2))
    assert counts.min() == 5 and counts.max() == 11
    assert (o.grid.block_kind == KIND_QUESTION).any()


def test_determinism():
    a = _new_game(KEY)
    b = jax.jit(gen.new_game)(KEY)  # a separate compilation
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(x, y)
    c = _new_game(jax.random.key(6))
    assert not all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(c)))


def test_full_board_generates_no_blocks_and_no_transmissions(build):
    enemies = [{"type": DAEMON, "row": r, "col": c} for r, c in np.ndindex(6, 6) if (r, c) != (0, 0)]
    st = build(player=(0, 0), enemies=enemies, stage=jnp.int32(2))
    out = _generate_stage(KEY, st)
    assert not (out.grid.content == BLOCK).any()
    assert int(out.transmissions.count) == 0


# ----------------------------------------------------------------------------------------------
# Acceptance checks.

def _blocks_ok(cells, exit_cell=(5, 5)):
    block = np.zeros((6, 6), bool)
    for c in cells:
        block[c] = True
    ex = np.zeros((6, 6), bool)
    ex[exit_cell] = True
    return bool(gen.blocks_acceptable(jnp.asarray(block), jnp.asarray(ex)))


def test_acceptance_checks():
    assert _blocks_ok([(1, 1), (2, 3), (4, 2)])
    # (4, 5) is reachable only through the exit, which is not expanded.
    assert not _blocks_ok([(3, 5), (4, 4)])
    # The same layout with the exit elsewhere is fine.
    assert _blocks_ok([(3, 5), (4, 4)], exit_cell=(0, 5))
    # The exit at (0, 0) is the BFS start and is expanded.
    assert _blocks_ok([(0, 2), (1, 1)], exit_cell=(0, 0))
    # Rule (b): a block whose four neighbours are blocks.
    assert not _blocks_ok([(2, 2), (1, 2), (3, 2), (2, 1), (2, 3)])
    # A wall cutting the board in two.
    assert not _blocks_ok([(2, c) for c in range(1, 5)] + [(3, 0), (3, 5)])


# ----------------------------------------------------------------------------------------------
# SpawnTransmission.

def test_line_of_fire_exact(build):
    st = build(player=(2, 2), blocks=[(2, 4)], enemies=[{"type": DAEMON, "row": 4, "col": 2}],
               transmissions=[{"row": 2, "col": 1}])
    expected = np.zeros((6, 6), bool)
    expected[2, [0, 1, 2, 3, 4]] = True  # the transmission on (2, 1) does not stop the trace
    expected[[0, 1, 3, 4], 2] = True  # the enemy on (4, 2) stops it after itself
    np.testing.assert_array_equal(np.asarray(gen.line_of_fire(st)), expected)


def _only_free(*free, player=(0, 0), exit=(5, 5)):
    """Blocks on every cell except the player's, the exit and `free`."""
    keep = set(free) | {player, exit}
    return [c for c in np.ndindex(6, 6) if c not in keep]


def test_exit_and_pickup_cells_are_empty(build, ref_spawn_cell):
    st = build(player=(0, 0), blocks=_only_free())
    out = gen.spawn_transmission(KEY, st, rng.SPAWN_SIPHON, 0, False, True)
    _, etype = ref_spawn_cell(KEY, st, rng.SPAWN_SIPHON, 0)
    t = out.transmissions
    assert int(t.count) == 1 and (int(t.row[0]), int(t.col[0])) == (5, 5)
    assert (int(t.timer[0]), int(t.enemy_type[0])) == (1, etype)
    assert not bool(t.from_scheduled[0]) and bool(t.from_siphon[0])
    st = build(player=(0, 0), exit=(5, 0), blocks=_only_free((0, 5), exit=(5, 0)),
               pickups=[(0, 5)])
    # Free: pickup (0, 5) and exit (5, 0), both behind blocks, so out of the line of fire.
    out = gen.spawn_transmission(KEY, st, rng.SPAWN_STAGE, 0, False, False)
    cell, _ = ref_spawn_cell(KEY, st, rng.SPAWN_STAGE, 0)
    assert cell in ((0, 5), (5, 0))
    assert (int(out.transmissions.row[0]), int(out.transmissions.col[0])) == cell


@pytest.mark.parametrize("seed", range(4))
def test_phase_a_avoids_line_of_fire_unless_blocked(build, ref_spawn_cell, seed):
    key = jax.random.key(seed)
    # Free cells: (0, 3) in the player's row and (3, 3) off its lines.
    blocks = _only_free((0, 1), (0, 2), (0, 3), (3, 3))
    clear = build(player=(0, 0), blocks=blocks)
    out = gen.spawn_transmission(key, clear, rng.SPAWN_SCHEDULED, 0, True, False)
    cell = (int(out.transmissions.row[0]), int(out.transmissions.col[0]))
    assert cell == ref_spawn_cell(key, clear, rng.SPAWN_SCHEDULED, 0)[0]
    assert cell in ((3, 3), (5, 5))  # row-0 cells are in the line of fire
    assert bool(out.transmissions.from_scheduled[0])
    # A transmission on (0, 1) does not stop the line of fire.
    trans = build(player=(0, 0), blocks=blocks, transmissions=[{"row": 0, "col": 1}])
    out = gen.spawn_transmission(key, trans, rng.SPAWN_SCHEDULED, 0, True, False)
    assert (int(out.transmissions.row[1]), int(out.transmissions.col[1])) in ((3, 3), (5, 5))
    # An enemy on (0, 1) does: (0, 2) and (0, 3) leave the line of fire.
    enemy = build(player=(0, 0), blocks=blocks, enemies=[{"type": CRYPTOG, "row": 0, "col": 1}])
    out = gen.spawn_transmission(key, enemy, rng.SPAWN_SCHEDULED, 0, True, False)
    cell = (int(out.transmissions.row[0]), int(out.transmissions.col[0]))
    assert cell == ref_spawn_cell(key, enemy, rng.SPAWN_SCHEDULED, 0)[0]
    rows, cols, _ = (np.asarray(x) for x in rng.spawn_draws(key, rng.SPAWN_SCHEDULED, 0))
    ok = [(int(r), int(c)) for r, c in zip(rows[:100], cols[:100])
          if (r, c) in ((0, 2), (0, 3), (3, 3), (5, 5))]
    assert cell == ok[0]


def test_phase_b_fallback(build, ref_spawn_cell):
    # Every free cell is in the player's row or column with a clear line: phase A fails.
    free = [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (1, 0), (2, 0)]
    st = build(player=(0, 0), exit=(0, 5), blocks=_only_free(*free, exit=(0, 5)))
    lof = np.asarray(gen.line_of_fire(st))
    assert all(lof[c] for c in free)
    out = gen.spawn_transmission(KEY, st, rng.SPAWN_SIPHON, 2, False, True)
    rows, cols, _ = (np.asarray(x) for x in rng.spawn_draws(KEY, rng.SPAWN_SIPHON, 2))
    expected = next((int(r), int(c)) for r, c in zip(rows[100:], cols[100:]) if (r, c) in free)
    assert (int(out.transmissions.row[0]), int(out.transmissions.col[0])) == expected
    assert ref_spawn_cell(KEY, st, rng.SPAWN_SIPHON, 2)[0] == expected


def test_full_board_spawns_nothing(build):
    st = build(player=(0, 0), blocks=_only_free(), transmissions=[{"row": 5, "col": 5}])
    out = gen.spawn_transmission(KEY, st, rng.SPAWN_SIPHON, 0, False, True)
    for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(st)):
        np.testing.assert_array_equal(a, b)


def test_full_transmission_list_drops_the_new_one(build):
    st = build(player=(0, 0), transmissions=[{"row": 5, "col": 5}] * MAX_TRANSMISSIONS)
    out = gen.spawn_transmission(KEY, st, rng.SPAWN_SIPHON, 0, False, True)
    for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(st)):
        np.testing.assert_array_equal(a, b)


def test_spawn_jit_and_vmap(build):
    a = build(player=(0, 0), blocks=_only_free())
    b = build(player=(2, 2))
    batch = jax.tree.map(lambda *x: jnp.stack(x), a, b)
    fn = jax.jit(jax.vmap(lambda k, s: gen.spawn_transmission(k, s, rng.SPAWN_STAGE, 0, False,
                                                              False)))
    out = fn(jax.random.split(KEY, 2), batch)
    assert out.transmissions.count.tolist() == [1, 1]
    assert (int(out.transmissions.row[0, 0]), int(out.transmissions.col[0, 0])) == (5, 5)
    assert out.transmissions.enemy_type[:, 0].tolist()[0] in (VIRUS, DAEMON, GLITCH, CRYPTOG)


def test_generate_stage_jit_and_vmap(build):
    a = build(player=(0, 5), stage=jnp.int32(2))
    b = build(player=(5, 5), stage=jnp.int32(4), enemies=[{"type": DAEMON, "row": 2, "col": 2}])
    batch = jax.tree.map(lambda *x: jnp.stack(x), a, b)
    keys = jax.random.split(KEY, 2)
    out = jax.jit(jax.vmap(gen.generate_stage))(keys, batch)
    assert out.transmissions.count.tolist() == [2, 4]
    for i, st in enumerate((a, b)):
        single = _generate_stage(keys[i], st)
        for x, y in zip(jax.tree.leaves(_lane(i, out)), jax.tree.leaves(single)):
            np.testing.assert_array_equal(x, y)
