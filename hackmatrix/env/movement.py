"""MoveEnemy of GAME_RULES.md section 7.1: the deterministic one-cell move of one enemy.

FirstStep(Pass) looks for the first of the mover's neighbours, in U, D, L, R order, with the
minimum BFS distance from the player over Pass. That neighbour is found without a distance map:
grow BFS levels from the player until one meets a neighbour of the mover; the neighbours in that
level are exactly those at minimum distance. Steps 1 and 2 (Pass = Terrain and not Occ, and
Pass = Terrain) run as two searches in one loop on bitboards (see bfs.py).
"""

import jax.numpy as jnp
import numpy as np
from flax import struct

from hackmatrix.env.bfs import FULL, cell_bits, first_reached_bits, has_cell, pack, spread_bits
from hackmatrix.env.constants import BLOCK, DIR_OFFSETS, GLITCH
from hackmatrix.env.entities import occupancy, valid_slots
from hackmatrix.env.state import Enemies, EnvState

I32 = jnp.int32
_DR = np.array([d[0] for d in DIR_OFFSETS], np.int32)
_DC = np.array([d[1] for d in DIR_OFFSETS], np.int32)
_FAR = 99  # beats any Manhattan distance on the board


def _first(mask4):
    """Index of the first True of a 4-vector (3 when none; callers check `any`)."""
    return jnp.where(mask4[0], 0, jnp.where(mask4[1], 1, jnp.where(mask4[2], 2, 3)))


def _pick(values4, i):
    """values4[i] for a traced i in 0..3, as selects (cheaper than a gather under vmap)."""
    return jnp.where(i == 0, values4[0], jnp.where(i == 1, values4[1],
                     jnp.where(i == 2, values4[2], values4[3])))


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
    trans_lo, trans_hi = pack(occupancy(state.transmissions))
    pr, pc = state.player.row, state.player.col
    return MoveContext(
        player_row=pr, player_col=pc, ground_lo=ground_lo, ground_hi=ground_hi,
        trans_lo=trans_lo, trans_hi=trans_hi, player_on_block=block[pr, pc],
    )


def enemy_bits(enemies: Enemies):
    """Return the bitboard words (lo, hi) of the cells holding at least one live enemy."""
    return pack(occupancy(enemies))


def step_enemy(ctx: MoveContext, enemies: Enemies, occ_lo, occ_hi, idx, active=True):
    """Apply MoveEnemy to the enemy in list slot `idx` when `active`.

    (occ_lo, occ_hi) is enemy_bits(enemies); it is updated and returned with the enemies, so a
    sequence of moves never rebuilds the occupancy from scratch.
    Returns (enemies, occ_lo, occ_hi).
    """
    r, c = enemies.row[idx], enemies.col[idx]
    glitch = enemies.type[idx] == GLITCH
    pr, pc = ctx.player_row, ctx.player_col
    terr_lo = jnp.where(glitch, FULL, ctx.ground_lo)
    terr_hi = jnp.where(glitch, FULL, ctx.ground_hi)
    # Occ = other enemies' cells and transmission cells. Counting the mover's own cell as
    # occupied cannot change any result: a path through it reaches a neighbour of the mover
    # first, so it is never a shortest path to one (section 7.1 notes the same).
    bad_lo = occ_lo | ctx.trans_lo
    bad_hi = occ_hi | ctx.trans_hi

    # Steps 1 and 2 as two searches in one loop; FirstStep is none unless Terrain(T).
    src_lo, src_hi = cell_bits(pr, pc)
    searching = active & (glitch | ~ctx.player_on_block)
    src_lo = jnp.where(searching, src_lo, 0)
    src_hi = jnp.where(searching, src_hi, 0)
    near_lo, near_hi = spread_bits(*cell_bits(r, c))
    hit_lo, hit_hi, _ = first_reached_bits(
        jnp.stack([terr_lo & ~bad_lo, terr_lo]), jnp.stack([terr_hi & ~bad_hi, terr_hi]),
        jnp.stack([src_lo, src_lo]), jnp.stack([src_hi, src_hi]),
        jnp.stack([near_lo, near_lo]), jnp.stack([near_hi, near_hi]),
    )

    nr, nc = r + _DR, c + _DC
    hit1 = has_cell(hit_lo[0], hit_hi[0], nr, nc)  # bool[4], U, D, L, R
    hit2 = has_cell(hit_lo[1], hit_hi[1], nr, nc)
    occ_n = has_cell(bad_lo, bad_hi, nr, nc)
    free_n = has_cell(terr_lo & ~bad_lo, terr_hi & ~bad_hi, nr, nc)

    # 1. FirstStep(Terrain and not Occ).
    found1 = hit1.any()
    # 2. FirstStep(Terrain): taken only if that one neighbour is not in Occ (no other is tried).
    d2 = _first(hit2)
    ok2 = hit2.any() & ~_pick(occ_n, d2)
    # 3. First Terrain, non-Occ neighbour closest (Manhattan) to the player, even if farther.
    manhattan = jnp.where(free_n, jnp.abs(nr - pr) + jnp.abs(nc - pc), _FAR)
    d3 = _first(manhattan == manhattan.min())

    direction = jnp.where(found1, _first(hit1), jnp.where(ok2, d2, d3))
    moves = active & (found1 | ok2 | free_n.any())
    new_r = jnp.where(moves, _pick(nr, direction), r)
    new_c = jnp.where(moves, _pick(nc, direction), c)

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
    """MoveEnemy (section 7.1) for the enemy in list slot `idx`; `ctx` may be precomputed."""
    if ctx is None:
        ctx = move_context(state)
    enemies, _, _ = step_enemy(ctx, state.enemies, *enemy_bits(state.enemies), idx)
    return state.replace(enemies=enemies)
