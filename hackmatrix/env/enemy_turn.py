"""EnemyTurn of rules §4.6: hatching, enemy actions, spawns, resets, snapshot.

Written for speed under vmap on CPU, where sorts, wide gathers, random draws and `lax.cond` (a
select of the whole state) are the expensive operations: the STEP skip is threaded through as a
mask instead of a branch, the acting order is found by repeated minimum search over packed
per-enemy records instead of an argsort (see `_mover_pass`), rarely needed work runs inside
`_lazy` (free when no env of the batch needs it), and the hatching, the loops of several movers
and the spawns (400 random numbers each) run only for the environments that need them
(apply_where).
"""

from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

from hackmatrix.env import rng
from hackmatrix.env.bfs import cell_bits
from hackmatrix.env.constants import (
    ENEMY_MAX_HP,
    ENEMY_STEPS,
    GLITCH,
    GRID,
    MAX_ENEMIES,
    MAX_PENDING_SPAWNS,
    NUM_CELLS,
)
from hackmatrix.env.entities import remove, valid_slots
from hackmatrix.env.generation import spawn_into, spawn_maps
from hackmatrix.env.movement import enemy_bits, move_context, move_target
from hackmatrix.env.sparse_apply import apply_where
from hackmatrix.env.state import EnvState, empty_transmissions
from hackmatrix.env.undo import push_snapshot

I32 = jnp.int32
_SUBSTEPS = max(ENEMY_STEPS)
# Lanes per apply_where chunk of the hatching: ~10% of random-play environments hatch a turn.
_HATCH_CHUNK = 32


def _per_type(types, table):
    """table[types] as a chain of selects (a gather costs far more under vmap on CPU)."""
    out = jnp.zeros_like(types)
    for enemy_type, value in enumerate(table):
        out = jnp.where(types == enemy_type, value, out)
    return out


def _lazy(pred, fn, x):
    """Return fn(x) where `pred`, else x; under vmap fn runs only if some env needs it."""
    return lax.while_loop(lambda c: c[0], lambda c: (jnp.zeros_like(c[0]), fn(c[1])), (pred, x))[1]


def _hatch_into(enemies, trans, hatch, ticking):
    """Append the hatching transmissions to the enemy list and drop them from their own list."""
    # One scatter of all fields at once: slot count + rank among the hatching, or dropped.
    slot = jnp.where(hatch, enemies.count + jnp.cumsum(hatch) - 1, MAX_ENEMIES)
    fields = ("type", "row", "col", "hp", "disabled", "from_scheduled", "from_siphon")
    current = jnp.stack([getattr(enemies, f).astype(I32) for f in fields])
    hatched = jnp.stack([
        trans.enemy_type, trans.row, trans.col, _per_type(trans.enemy_type, ENEMY_MAX_HP),
        jnp.ones_like(trans.timer), trans.from_scheduled.astype(I32),
        trans.from_siphon.astype(I32),
    ])
    merged = current.at[:, slot].set(hatched, mode="drop")
    enemies = enemies.replace(
        count=jnp.minimum(enemies.count + hatch.sum(), MAX_ENEMIES).astype(I32),
        **{f: merged[i].astype(getattr(enemies, f).dtype) for i, f in enumerate(fields)},
    )
    # Usually every live transmission hatches (timers start at 1; only DELAY raises them).
    trans = lax.cond(ticking.any(), lambda t: remove(t, hatch), lambda t: empty_transmissions(),
                     trans)
    return enemies, trans


def hatch_transmissions(state: EnvState, enabled=True) -> EnvState:
    """Step (1): transmissions with timer <= 1 become enemies (appended in list order), others tick.

    A hatched enemy has max HP, disabled = 1, stunned False and the transmission's flags; enemies
    beyond MAX_ENEMIES are dropped [D5] (the transmission is still consumed). Few environments
    hold a transmission, so only those that hatch one run the list updates (apply_where).
    """
    trans = state.transmissions
    live = valid_slots(trans) & enabled
    hatch = live & (trans.timer <= 1)
    ticking = live & ~hatch
    trans = trans.replace(timer=jnp.where(ticking, trans.timer - 1, trans.timer))
    enemies, trans = apply_where(
        hatch.any(), _hatch_into, (state.enemies, trans, hatch, ticking),
        (state.enemies, trans), chunk=_HATCH_CHUNK)
    return state.replace(enemies=enemies, transmissions=trans)


# The mover loop carries one int32 record per enemy list slot, so that each pass updates a
# single array and two plain reductions find the next mover with everything its move reads.
# The slot sits in the top bits: among equal draws the smallest record is the lowest slot.
# Bits: row 0-2, col 3-5, glitch 6, waiting to move in this sub-step 7, count 8-13, slot 14-19.
_COL_SHIFT, _GLITCH_BIT, _WAITING_BIT, _COUNT_SHIFT, _SLOT_SHIFT = 3, 6, 7, 8, 14
_CELL_MASK = (1 << 6) - 1  # row and col
_COUNT_MASK = (1 << 6) - 1  # up to MAX_ENEMIES on one cell
_NONE = 1 << 30  # above every record and every draw's key
# Under vmap the mover loop runs as often as the busiest environment has movers, while most
# have one or none: only the lanes with several movers draw an acting order and run the loop
# beyond one pass, in chunks (1024 envs of random play: mean 1 enemy, max ~15; the enemy turn
# 2.6 -> 2.0 ms).
_TAIL_CHUNK = 32


def _stack_counts(enemies, valid, occ_lo, occ_hi):
    """Return int32[MAX_ENEMIES]: for each live enemy, how many live enemies share its cell.

    Stacks are rare, so the counting scatter runs only when some environment of the batch has
    fewer occupied cells than live enemies (all counts are 1 otherwise).
    """
    occupied = lax.population_count(occ_lo) + lax.population_count(occ_hi)

    def count(_):
        cells = jnp.where(valid, enemies.row * GRID + enemies.col, NUM_CELLS)
        return jnp.zeros(NUM_CELLS + 1, I32).at[cells].add(1)[cells]

    return _lazy(occupied < enemies.count, count, jnp.ones_like(enemies.row))


def _order_key(u):
    """The draws' float32 bits as int32: same order (uniforms are >= 0), a cheaper minimum."""
    return lax.bitcast_convert_type(u, I32)


def _mover_pass(ctx, u_key, n_movers, carry):
    """Move the next waiting enemy of the acting order (smallest u, lowest slot on a tie)."""
    i, record, occ_lo, occ_hi = carry
    waiting = (record >> _WAITING_BIT) & 1 == 1
    u_key = jnp.where(waiting, u_key, _NONE)
    best = jnp.where(waiting & (u_key == u_key.min()), record, _NONE).min()
    r = best & 7
    c = (best >> _COL_SHIFT) & 7
    # Finished envs of a vmapped batch run this pass too; `active` keeps it cheap.
    active = i < n_movers
    moves, new_r, new_c = move_target(
        ctx, r, c, (best >> _GLITCH_BIT) & 1 == 1,
        occ_lo | ctx.trans_lo, occ_hi | ctx.trans_hi, active)
    # The vacated cell stays occupied when another live enemy is stacked on it.
    keep_old = ~moves | ((best >> _COUNT_SHIFT) & _COUNT_MASK > 1)
    old_lo, old_hi = cell_bits(r, c)
    new_lo, new_hi = cell_bits(new_r, new_c)
    occ_lo = jnp.where(keep_old, occ_lo, occ_lo & ~old_lo) | new_lo
    occ_hi = jnp.where(keep_old, occ_hi, occ_hi & ~old_hi) | new_hi
    # The mover is alone on its new cell (an enemy never enters Occ); those it left lose one.
    moved = (best & ~(_CELL_MASK | (1 << _WAITING_BIT) | (_COUNT_MASK << _COUNT_SHIFT))
             | new_r | (new_c << _COL_SHIFT) | (1 << _COUNT_SHIFT))
    left_behind = moves & ((record & _CELL_MASK) == (best & _CELL_MASK))
    record = jnp.where(
        record == best,
        jnp.where(moves, moved, best & ~(1 << _WAITING_BIT)),
        jnp.where(left_behind, record - (1 << _COUNT_SHIFT), record),
    )
    return i + 1, record, occ_lo, occ_hi


def _move_all(ctx, u_key, n_movers, carry):
    """Run mover passes until `n_movers` enemies have moved."""
    return lax.while_loop(lambda c: c[0] < n_movers, partial(_mover_pass, ctx, u_key, n_movers),
                          carry)


def _move_in_order(substep, ctx, key, n_movers, carry):
    """Move all `n_movers` waiting enemies in the acting order drawn for `substep`."""
    return _move_all(ctx, _order_key(rng.enemy_order_draws(key, substep)), n_movers, carry)


def _act(key, state: EnvState, in_turn) -> EnvState:
    """Step (2): every active enemy attacks if adjacent to the player, else moves.

    Within a sub-step nobody but the acting enemy changes its own cell and the player never
    moves, so who attacks and who moves is fixed at the start of the sub-step. All attacks are
    therefore applied at once, and only the movers are walked through, in the sub-step's
    permutation order. S = 2 only matters to viruses (the only 2-step type), so sub-step 1 simply
    finds no eligible enemy when there is no virus; its draws are a separate event either way.

    Under vmap a mover loop runs as many times as the busiest environment has movers, and on
    CPU its cost is the number of kernels per pass: see `_mover_pass` (no gathers or scatters).
    So the batch runs one pass for the lone movers, and only the environments with several
    movers run their loop (apply_where, in chunks of _TAIL_CHUNK lanes).
    """
    ctx = move_context(state)
    pr, pc = state.player.row, state.player.col
    enemies = state.enemies
    valid = valid_slots(enemies)
    live = valid & in_turn
    attacked = jnp.zeros_like(live)
    hp = state.player.hp
    steps = _per_type(enemies.type, ENEMY_STEPS)
    occ_lo, occ_hi = enemy_bits(enemies)
    # Movers never enter a cell holding an enemy (it is in Occ), so a cell's count only drops,
    # when one of its enemies moves away; tracking it per enemy answers "stacked" in 7.1.
    record = (
        enemies.row | (enemies.col << _COL_SHIFT)
        | ((enemies.type == GLITCH).astype(I32) << _GLITCH_BIT)
        | (_stack_counts(enemies, valid, occ_lo, occ_hi) << _COUNT_SHIFT)
        | (jnp.arange(MAX_ENEMIES) << _SLOT_SHIFT)
    )
    for s in range(_SUBSTEPS):
        row, col = record & 7, (record >> _COL_SHIFT) & 7
        eligible = (
            live & (enemies.disabled == 0) & ~enemies.stunned & ~attacked & (s < steps)
        )
        adjacent = (jnp.abs(row - pr) + jnp.abs(col - pc)) == 1
        attackers = eligible & adjacent
        hp = jnp.maximum(0, hp - attackers.sum()).astype(I32)
        attacked = attacked | attackers
        movers = eligible & ~adjacent
        record = record | (movers.astype(I32) << _WAITING_BIT)
        n_movers = movers.sum()
        start = (I32(0), record, occ_lo, occ_hi)
        # A lone mover needs no acting order: the whole batch moves those without drawing it.
        alone = _move_all(ctx, jnp.zeros_like(record), (n_movers == 1).astype(I32), start)
        _, record, occ_lo, occ_hi = apply_where(
            n_movers > 1, partial(_move_in_order, s), (ctx, key, n_movers, start), alone,
            chunk=_TAIL_CHUNK)
    enemies = enemies.replace(row=record & 7, col=(record >> _COL_SHIFT) & 7)
    return state.replace(enemies=enemies, player=state.player.replace(hp=hp))


def _spawn_requests(key, state, due, total):
    """Run `total` SpawnTransmissions: the scheduled one first when `due`, then siphon ones.

    Returns the transmissions. The Empty map only loses the cells picked along the way and LoF
    ignores transmissions, so both maps are computed once.
    """
    first = due.astype(I32)
    empty_bits, lof_bits = spawn_maps(state)

    def cond(carry):
        return carry[0] < total

    def body(carry):
        k, trans, empty_bits = carry
        scheduled = due & (k == 0)
        event = jnp.where(scheduled, rng.SPAWN_SCHEDULED, rng.SPAWN_SIPHON)
        occurrence = jnp.where(scheduled, 0, k - first)
        trans, empty_bits = spawn_into(
            key, trans, empty_bits, lof_bits, event, occurrence, scheduled, ~scheduled
        )
        return k + 1, trans, empty_bits

    return lax.while_loop(cond, body, (I32(0), state.transmissions, empty_bits))[1]


def _spawns(key, state: EnvState, in_turn) -> EnvState:
    """Steps (3) and (4): the scheduled task, then the queued siphon transmissions [D8].

    Each spawn draws 400 random numbers, so under vmap only the environments that spawn this
    turn run the loop (apply_where), each for its own due + queued count.
    """
    due = in_turn & ~state.calm & (state.turn >= state.sched_next)
    queued = jnp.where(in_turn, jnp.minimum(state.pending_spawns, MAX_PENDING_SPAWNS), 0)
    total = due.astype(I32) + queued
    trans = apply_where(total > 0, _spawn_requests, (key, state, due, total), state.transmissions)
    return state.replace(
        transmissions=trans,
        sched_next=jnp.where(due, state.turn + state.sched_interval, state.sched_next),
        pending_spawns=jnp.where(in_turn, 0, state.pending_spawns).astype(I32),
    )


def enemy_turn(key, state: EnvState, enabled=True) -> EnvState:
    """EnemyTurn of rules §4.6; an armed STEP skips it entirely (only step_pending is cleared).

    The turn runs to completion even when the player's HP reaches 0. `enabled=False` returns
    the state unchanged: under vmap this is cheaper than a `lax.cond` around the call, which
    would select between two whole states.
    """
    enabled = jnp.asarray(enabled, bool)
    in_turn = enabled & ~state.step_pending
    state = state.replace(
        turn=state.turn + in_turn.astype(I32), step_pending=state.step_pending & ~enabled
    )
    state = hatch_transmissions(state, in_turn)
    state = _act(key, state, in_turn)
    state = _spawns(key, state, in_turn)
    enemies = state.enemies
    # (5) Dead slots hold 0 and stay 0, so no validity mask is needed.
    enemies = enemies.replace(
        disabled=jnp.where(in_turn, jnp.maximum(0, enemies.disabled - 1), enemies.disabled),
        stunned=enemies.stunned & ~in_turn,
    )
    state = state.replace(enemies=enemies)
    # (6) UNDO snapshot, not when skipped.
    undo = jax.tree.map(lambda new, old: jnp.where(in_turn, new, old), push_snapshot(state).undo,
                        state.undo)
    return state.replace(undo=undo)
