"""MoveEnemy of rules §7.1: the deterministic one-cell move of one enemy.

FirstStep(Pass) looks for the first of the mover's neighbours, in U, D, L, R order, with the
minimum BFS distance from the player over Pass. That neighbour is found without a distance map:
grow BFS levels from the player until one meets a neighbour of the mover; the neighbours in that
level are exactly those at minimum distance. Steps 1 and 2 (Pass = Terrain and not Occ, and
Pass = Terrain) run as two searches in one loop on bitboards (see bfs.py).

Everything here is written on per-environment scalars (one bitboard word, one flag per
direction) with no stacking, gathers or reductions: under vmap on CPU each of those is a kernel
of its own, while chains of scalar operations fuse into a few, and the enemy turn runs this
once per mover.
"""

import jax.numpy as jnp
from flax import struct
from jax import lax

from hackmatrix.env.bfs import FULL, cell_bits, has_cell, pack, spread_bits
from hackmatrix.env.constants import BLOCK, DIR_OFFSETS, GLITCH
from hackmatrix.env.entities import occupied_bits, valid_slots
from hackmatrix.env.state import Enemies, EnvState

I32 = jnp.int32
_FAR = 99  # beats any Manhattan distance on the board


def _first(flags):
    """Index of the first True of four scalar flags (3 when none; callers check `any`)."""
    return jnp.where(flags[0], 0, jnp.where(flags[1], 1, jnp.where(flags[2], 2, 3)))


def pick(values, i):
    """values[i] of four scalars for a traced i in 0..3, as selects (a gather costs more)."""
    return jnp.where(i == 0, values[0], jnp.where(i == 1, values[1],
                     jnp.where(i == 2, values[2], values[3])))


def _any(flags):
    return flags[0] | flags[1] | flags[2] | flags[3]


def _first_steps(pass1, pass2, src, near):
    """Two targeted BFS from `src` over `pass1` and `pass2` (bitboard pairs) in one loop.

    Same levels as bfs.first_reached_bits, for two searches at once. The loop carries one
    int32[8] (frontier and visited words of both searches), so that under vmap a level is a
    single fused kernel rather than one per word.
    Returns the two hit bitboards (the targets in the meeting level; empty when none).
    """
    near_lo, near_hi = near

    def running(f_lo, f_hi):
        return ((f_lo | f_hi) != 0) & (((f_lo & near_lo) | (f_hi & near_hi)) == 0)

    def cond(x):
        return running(x[0], x[1]) | running(x[4], x[5])

    def level(f_lo, f_hi, v_lo, v_hi, p_lo, p_hi):
        run = running(f_lo, f_hi)
        n_lo, n_hi = spread_bits(f_lo, f_hi)
        f_lo = jnp.where(run, n_lo & p_lo & ~v_lo, f_lo)
        f_hi = jnp.where(run, n_hi & p_hi & ~v_hi, f_hi)
        return f_lo, f_hi, v_lo | f_lo, v_hi | f_hi

    def body(x):
        return jnp.stack(level(*(x[k] for k in range(4)), *pass1)
                         + level(*(x[k] for k in range(4, 8)), *pass2))

    x = lax.while_loop(cond, body, jnp.stack([*src, *src, *src, *src]))
    return (x[0] & near_lo, x[1] & near_hi), (x[4] & near_lo, x[5] & near_hi)


@struct.dataclass
class MoveContext:
    """What enemy moves read that stays fixed while the enemies act in one enemy turn."""

    player_row: jnp.ndarray
    player_col: jnp.ndarray
    ground_lo: jnp.ndarray  # bitboard of the non-block cells (Terrain of a non-glitch)
    ground_hi: jnp.ndarray
    trans_lo: jnp.ndarray  # bitboard of the cells holding a transmission
    trans_hi: jnp.ndarray
    player_on_block: jnp.ndarray  # bool: then non-glitches have no FirstStep at all


def move_context(state: EnvState) -> MoveContext:
    """Precompute the enemy-independent part of MoveEnemy for the current board and player."""
    block = state.grid.content == BLOCK
    ground_lo, ground_hi = pack(~block)
    trans_lo, trans_hi = occupied_bits(state.transmissions)
    pr, pc = state.player.row, state.player.col
    return MoveContext(
        player_row=pr, player_col=pc, ground_lo=ground_lo, ground_hi=ground_hi,
        trans_lo=trans_lo, trans_hi=trans_hi, player_on_block=block[pr, pc],
    )


def enemy_bits(enemies: Enemies):
    """Return the bitboard words (lo, hi) of the cells holding at least one live enemy."""
    return occupied_bits(enemies)


def move_target(ctx: MoveContext, r, c, glitch, bad_lo, bad_hi, active=True):
    """MoveEnemy's destination for an enemy on (r, c), given the Occ bitboard (bad_lo, bad_hi).

    Occ = other enemies' cells and transmission cells. Counting the mover's own cell as
    occupied cannot change any result: a path through it reaches a neighbour of the mover
    first, so it is never a shortest path to one (rules §7.1 notes the same).
    Returns (moves bool, new_r, new_c); (r, c) itself when it does not move or not `active`.
    """
    pr, pc = ctx.player_row, ctx.player_col
    terr_lo = jnp.where(glitch, FULL, ctx.ground_lo)
    terr_hi = jnp.where(glitch, FULL, ctx.ground_hi)
    free_lo, free_hi = terr_lo & ~bad_lo, terr_hi & ~bad_hi

    # Steps 1 and 2 as two searches in one loop; FirstStep is none unless Terrain(T).
    src_lo, src_hi = cell_bits(pr, pc)
    searching = active & (glitch | ~ctx.player_on_block)
    src = (jnp.where(searching, src_lo, 0), jnp.where(searching, src_hi, 0))
    hits1, hits2 = _first_steps(
        (free_lo, free_hi), (terr_lo, terr_hi), src, spread_bits(*cell_bits(r, c)))

    nr = [r + d[0] for d in DIR_OFFSETS]  # U, D, L, R
    nc = [c + d[1] for d in DIR_OFFSETS]
    hit1 = [has_cell(*hits1, nr[d], nc[d]) for d in range(4)]
    hit2 = [has_cell(*hits2, nr[d], nc[d]) for d in range(4)]
    occ_n = [has_cell(bad_lo, bad_hi, nr[d], nc[d]) for d in range(4)]
    free_n = [has_cell(free_lo, free_hi, nr[d], nc[d]) for d in range(4)]

    # 1. FirstStep(Terrain and not Occ).
    found1 = _any(hit1)
    # 2. FirstStep(Terrain): taken only if that one neighbour is not in Occ (no other is tried).
    d2 = _first(hit2)
    ok2 = _any(hit2) & ~pick(occ_n, d2)
    # 3. First Terrain, non-Occ neighbour closest (Manhattan) to the player, even if farther.
    manhattan = [jnp.where(free_n[d], jnp.abs(nr[d] - pr) + jnp.abs(nc[d] - pc), _FAR)
                 for d in range(4)]
    nearest = jnp.minimum(jnp.minimum(manhattan[0], manhattan[1]),
                          jnp.minimum(manhattan[2], manhattan[3]))
    d3 = _first([m == nearest for m in manhattan])

    direction = jnp.where(found1, _first(hit1), jnp.where(ok2, d2, d3))
    moves = active & (found1 | ok2 | _any(free_n))
    new_r = jnp.where(moves, pick(nr, direction), r)
    new_c = jnp.where(moves, pick(nc, direction), c)
    return moves, new_r, new_c


def step_enemy(ctx: MoveContext, enemies: Enemies, occ_lo, occ_hi, idx, active=True):
    """Apply MoveEnemy to the enemy in list slot `idx` when `active`.

    (occ_lo, occ_hi) is enemy_bits(enemies); it is updated and returned with the enemies, so a
    sequence of moves never rebuilds the occupancy from scratch.
    Returns (enemies, occ_lo, occ_hi).
    """
    r, c = enemies.row[idx], enemies.col[idx]
    glitch = enemies.type[idx] == GLITCH
    moves, new_r, new_c = move_target(
        ctx, r, c, glitch, occ_lo | ctx.trans_lo, occ_hi | ctx.trans_hi, active)

    # The vacated cell stays occupied when another live enemy is stacked on it.
    stacked = (valid_slots(enemies) & (enemies.row == r) & (enemies.col == c)).sum() > 1
    old_lo, old_hi = cell_bits(r, c)
    new_lo, new_hi = cell_bits(new_r, new_c)
    keep_old = ~moves | stacked
    occ_lo = jnp.where(keep_old, occ_lo, occ_lo & ~old_lo) | new_lo
    occ_hi = jnp.where(keep_old, occ_hi, occ_hi & ~old_hi) | new_hi
    enemies = enemies.replace(row=enemies.row.at[idx].set(new_r), col=enemies.col.at[idx].set(new_c))
    return enemies, occ_lo, occ_hi


def move_enemy(state: EnvState, idx, ctx: MoveContext | None = None) -> EnvState:
    """MoveEnemy (rules §7.1) for the enemy in list slot `idx`; `ctx` may be precomputed."""
    if ctx is None:
        ctx = move_context(state)
    enemies, _, _ = step_enemy(ctx, state.enemies, *enemy_bits(state.enemies), idx)
    return state.replace(enemies=enemies)
