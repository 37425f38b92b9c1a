"""EnemyTurn of GAME_RULES.md section 4.6: hatching, enemy actions, spawns, resets, snapshot."""

import jax.numpy as jnp
import numpy as np
from jax import lax

from hackmatrix.env import rng
from hackmatrix.env.constants import ENEMY_MAX_HP, ENEMY_STEPS, MAX_ENEMIES, MAX_PENDING_SPAWNS
from hackmatrix.env.entities import remove, valid_slots
from hackmatrix.env.generation import empty_cells, line_of_fire, spawn_into
from hackmatrix.env.movement import enemy_bits, move_context, step_enemy
from hackmatrix.env.state import EnvState
from hackmatrix.env.undo import push_snapshot

I32 = jnp.int32
_MAX_HP = np.array(ENEMY_MAX_HP, np.int32)
_STEPS = np.array(ENEMY_STEPS, np.int32)
_SUBSTEPS = int(_STEPS.max())


def hatch_transmissions(state: EnvState) -> EnvState:
    """Step (1): transmissions with timer <= 1 become enemies (appended in list order), others tick.

    A hatched enemy has max HP, disabled = 1 and the transmission's flags; enemies beyond
    MAX_ENEMIES are dropped [D5] (the transmission is still consumed).
    """
    trans, enemies = state.transmissions, state.enemies
    live = valid_slots(trans)
    hatch = live & (trans.timer <= 1)
    slot = jnp.where(hatch, enemies.count + jnp.cumsum(hatch) - 1, MAX_ENEMIES)

    def put(field, values):
        return field.at[slot].set(values.astype(field.dtype), mode="drop")

    enemies = enemies.replace(
        count=jnp.minimum(enemies.count + hatch.sum(), MAX_ENEMIES).astype(I32),
        type=put(enemies.type, trans.enemy_type),
        row=put(enemies.row, trans.row),
        col=put(enemies.col, trans.col),
        hp=put(enemies.hp, jnp.asarray(_MAX_HP)[trans.enemy_type]),
        disabled=put(enemies.disabled, jnp.ones_like(trans.timer)),
        from_scheduled=put(enemies.from_scheduled, trans.from_scheduled),
        from_siphon=put(enemies.from_siphon, trans.from_siphon),
    )
    trans = remove(trans.replace(timer=jnp.where(live & ~hatch, trans.timer - 1, trans.timer)), hatch)
    return state.replace(enemies=enemies, transmissions=trans)


def _act(key, state: EnvState) -> EnvState:
    """Step (2): every active enemy attacks if adjacent to the player, else moves.

    Within a sub-step nobody but the acting enemy changes its own cell and the player never
    moves, so who attacks and who moves is fixed at the start of the sub-step. All attacks are
    therefore applied at once, and only the movers are walked through, in the sub-step's
    permutation order. S = 2 only matters to viruses (the only 2-step type), so sub-step 1 simply
    finds no eligible enemy when there is no virus; its draws are a separate event either way.
    """
    ctx = move_context(state)
    pr, pc = state.player.row, state.player.col
    enemies = state.enemies
    live = valid_slots(enemies)
    attacked = jnp.zeros_like(live)
    hp = state.player.hp
    occ_lo, occ_hi = enemy_bits(enemies)
    for s in range(_SUBSTEPS):
        eligible = (
            live & (enemies.disabled == 0) & ~enemies.stunned & ~attacked
            & (s < jnp.asarray(_STEPS)[enemies.type])
        )
        adjacent = (jnp.abs(enemies.row - pr) + jnp.abs(enemies.col - pc)) == 1
        attackers = eligible & adjacent
        hp = jnp.maximum(0, hp - attackers.sum()).astype(I32)
        attacked = attacked | attackers
        movers = eligible & ~adjacent
        u = rng.enemy_order_draws(key, s)
        # Stable ascending sort of the uniforms, movers first: the permutation restricted to them.
        order = jnp.argsort(jnp.where(movers, u, 2.0), stable=True)
        n_movers = movers.sum()

        def cond(carry, n_movers=n_movers):
            return carry[0] < n_movers

        def body(carry, order=order, n_movers=n_movers):
            i, enemies, occ_lo, occ_hi = carry
            # Finished envs of a vmapped batch run this body too; `active` keeps it cheap.
            return (i + 1,) + step_enemy(ctx, enemies, occ_lo, occ_hi, order[i], i < n_movers)

        _, enemies, occ_lo, occ_hi = lax.while_loop(
            cond, body, (I32(0), enemies, occ_lo, occ_hi)
        )
    return state.replace(enemies=enemies, player=state.player.replace(hp=hp))


def _spawns(key, state: EnvState) -> EnvState:
    """Steps (3) and (4): the scheduled task and the queued siphon transmissions."""
    empty, lof = empty_cells(state), line_of_fire(state)
    due = ~state.calm & (state.turn >= state.sched_next)
    trans, empty = spawn_into(
        key, state.transmissions, empty, lof, rng.SPAWN_SCHEDULED, 0, True, False, due
    )
    n_queued = jnp.minimum(state.pending_spawns, MAX_PENDING_SPAWNS)  # [D8]

    def cond(carry):
        return carry[0] < n_queued

    def body(carry):
        k, trans, empty = carry
        trans, empty = spawn_into(key, trans, empty, lof, rng.SPAWN_SIPHON, k, False, True)
        return k + 1, trans, empty

    _, trans, _ = lax.while_loop(cond, body, (I32(0), trans, empty))
    return state.replace(
        transmissions=trans,
        sched_next=jnp.where(due, state.turn + state.sched_interval, state.sched_next),
        pending_spawns=I32(0),
    )


def _full_turn(key, state: EnvState) -> EnvState:
    state = state.replace(turn=state.turn + 1)
    state = hatch_transmissions(state)
    state = _act(key, state)
    state = _spawns(key, state)
    enemies = state.enemies
    # (5) Dead slots hold 0 and stay 0, so no validity mask is needed.
    enemies = enemies.replace(
        disabled=jnp.maximum(0, enemies.disabled - 1), stunned=jnp.zeros_like(enemies.stunned)
    )
    return push_snapshot(state.replace(enemies=enemies))


def enemy_turn(key, state: EnvState) -> EnvState:
    """EnemyTurn of section 4.6; an armed STEP skips it entirely (only step_pending is cleared).

    The turn runs to completion even when the player's HP reaches 0.
    """
    return lax.cond(
        state.step_pending,
        lambda k, s: s.replace(step_pending=jnp.bool_(False)),
        _full_turn,
        key, state,
    )
