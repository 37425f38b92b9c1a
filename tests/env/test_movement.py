"""MoveEnemy (rules §7.1): each branch, with hand-computed destinations."""

import jax
import jax.numpy as jnp
import numpy as np

from hackmatrix.env import movement
from hackmatrix.env.constants import BLOCK, DAEMON, GLITCH, VIRUS


def _moved(st, idx):
    out = movement.move_enemy(st, idx)
    return int(out.enemies.row[idx]), int(out.enemies.col[idx])


def test_appendix_a_example_1_tie_break(build):
    st = build(player=(4, 3), enemies=[{"type": DAEMON, "row": 5, "col": 5}])
    # Down (4, 5) and left (5, 4) are both at distance 2: down comes first in U, D, L, R.
    assert _moved(st, 0) == (4, 5)


def test_step1_avoids_occupied_cells(build):
    free = build(player=(0, 0), enemies=[{"type": DAEMON, "row": 0, "col": 3}])
    assert _moved(free, 0) == (0, 2)
    # Another enemy on (0, 2): the path avoiding Occ starts upwards (distance 4).
    st = build(player=(0, 0), enemies=[{"type": DAEMON, "row": 0, "col": 2},
                                       {"type": DAEMON, "row": 0, "col": 3}])
    assert _moved(st, 1) == (1, 3)


def test_step2_moves_when_step1_finds_nothing(build):
    # The player is walled in by a block (1, 0) and an enemy (0, 1): step 1 runs dry, but over
    # Terrain the left neighbour (0, 2) is closest (distance 2) and free.
    st = build(player=(0, 0), blocks=[(1, 0)],
               enemies=[{"type": DAEMON, "row": 0, "col": 1}, {"type": DAEMON, "row": 0, "col": 3}])
    assert _moved(st, 1) == (0, 2)


def test_step2_refusal_falls_back_to_manhattan_not_second_best(build):
    # Step 1 runs dry (player walled in). Over Terrain the closest neighbour is D (1, 2) at 3,
    # held by another enemy: refused. The second-best FirstStep would be U (3, 2) at 5, but the
    # fallback takes the free neighbour closest by Manhattan distance: L (2, 1) (3 vs 5).
    st = build(
        player=(0, 0), blocks=[(1, 0), (1, 1), (2, 0), (3, 1)],
        enemies=[{"type": DAEMON, "row": 0, "col": 1}, {"type": DAEMON, "row": 1, "col": 2},
                 {"type": DAEMON, "row": 2, "col": 2}],
    )
    assert _moved(st, 2) == (2, 1)


def test_manhattan_fallback_may_move_away(build):
    # Step 2 wants L (0, 1) (distance 1), occupied. Fallback: U (1, 2) and R (0, 3) are both at
    # Manhattan 3, one farther than the enemy is now; U comes first.
    st = build(player=(0, 0), blocks=[(1, 0), (1, 1)],
               enemies=[{"type": DAEMON, "row": 0, "col": 1}, {"type": DAEMON, "row": 0, "col": 2}])
    assert _moved(st, 1) == (1, 2)


def test_boxed_in_enemy_stays(build):
    st = build(player=(0, 0), exit=(0, 5), blocks=[(4, 5), (5, 4)],
               enemies=[{"type": DAEMON, "row": 5, "col": 5}])
    assert _moved(st, 0) == (5, 5)


def test_glitch_walks_through_blocks(build):
    blocks = [(0, 1), (0, 2)]
    glitch = build(player=(0, 0), blocks=blocks, enemies=[{"type": GLITCH, "row": 0, "col": 3}])
    assert _moved(glitch, 0) == (0, 2)
    daemon = build(player=(0, 0), blocks=blocks, enemies=[{"type": DAEMON, "row": 0, "col": 3}])
    assert _moved(daemon, 0) == (1, 3)


def test_player_on_block_non_glitch_uses_manhattan_only(build):
    st = build(player=(0, 0), blocks=[(0, 0), (1, 0)], enemies=[{"type": DAEMON, "row": 2, "col": 0}])
    assert int(st.grid.content[0, 0]) == BLOCK
    # No FirstStep for a non-glitch: the fallback picks U (3, 0) (Manhattan 3, tie with R (2, 1),
    # U first) although a BFS from the player would have led right.
    assert _moved(st, 0) == (3, 0)
    # A glitch still paths to the player (Terrain(T) holds): straight down through the block.
    st = build(player=(0, 0), blocks=[(0, 0), (1, 0)], enemies=[{"type": GLITCH, "row": 2, "col": 0}])
    assert _moved(st, 0) == (1, 0)


def test_enemy_on_player_cell_steps_off(build):
    st = build(player=(2, 2), enemies=[{"type": VIRUS, "row": 2, "col": 2}])
    assert _moved(st, 0) == (3, 2)


def test_only_the_mover_changes(build):
    st = build(player=(0, 0), enemies=[{"type": DAEMON, "row": 5, "col": 5},
                                       {"type": VIRUS, "row": 3, "col": 3}])
    out = movement.move_enemy(st, 1)
    assert (int(out.enemies.row[1]), int(out.enemies.col[1])) == (2, 3)
    assert (int(out.enemies.row[0]), int(out.enemies.col[0])) == (5, 5)
    for a, b in zip(jax.tree.leaves(out.replace(enemies=st.enemies)), jax.tree.leaves(st)):
        np.testing.assert_array_equal(a, b)


def test_stacked_cell_stays_occupied_after_one_leaves(build):
    # A and B stacked on (2, 2); C above them at (3, 2). A moves first (down to (1, 2)); B is
    # still on (2, 2), so C must not step down there: it goes L to (3, 1) (distance 4 avoiding
    # A and B). Had (2, 2) been freed, C would have taken D (2, 2) at the same distance.
    st = build(player=(0, 2), enemies=[{"type": DAEMON, "row": 2, "col": 2},
                                       {"type": DAEMON, "row": 2, "col": 2},
                                       {"type": DAEMON, "row": 3, "col": 2}])
    ctx = movement.move_context(st)
    lo, hi = movement.enemy_bits(st.enemies)
    enemies, lo, hi = movement.step_enemy(ctx, st.enemies, lo, hi, 0)
    assert (int(enemies.row[0]), int(enemies.col[0])) == (1, 2)
    enemies, lo, hi = movement.step_enemy(ctx, enemies, lo, hi, 2)
    assert (int(enemies.row[2]), int(enemies.col[2])) == (3, 1)
    # The incremental occupancy equals a fresh one.
    assert (int(lo), int(hi)) == tuple(int(w) for w in movement.enemy_bits(enemies))


def test_inactive_step_changes_nothing(build):
    st = build(player=(0, 0), enemies=[{"type": DAEMON, "row": 3, "col": 3}])
    ctx = movement.move_context(st)
    lo, hi = movement.enemy_bits(st.enemies)
    enemies, lo2, hi2 = movement.step_enemy(ctx, st.enemies, lo, hi, 0, False)
    assert (int(enemies.row[0]), int(enemies.col[0])) == (3, 3)
    assert (int(lo2), int(hi2)) == (int(lo), int(hi))


def test_jit_and_vmap(build):
    a = build(player=(4, 3), enemies=[{"type": DAEMON, "row": 5, "col": 5}])
    b = build(player=(0, 0), blocks=[(0, 1), (0, 2)], enemies=[{"type": GLITCH, "row": 0, "col": 3}])
    batch = jax.tree.map(lambda x, y: jnp.stack([x, y]), a, b)
    out = jax.jit(jax.vmap(movement.move_enemy))(batch, jnp.array([0, 0]))
    assert out.enemies.row[:, 0].tolist() == [4, 0]
    assert out.enemies.col[:, 0].tolist() == [5, 2]
