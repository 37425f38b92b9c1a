"""Programs (actions 5..27): applicability, cost and the 23 effects (rules §5).

`RULES` binds each row of constants.PROGRAMS, by name, to its applicability and effect.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hackmatrix.env import rng
from hackmatrix.env.bfs import has_cell, pack
from hackmatrix.env.constants import (
    BLOCK,
    DAEMON,
    EMPTY,
    ENEMY_MAX_HP,
    GRID,
    KIND_NONE,
    MAX_HP,
    NUM_STAGES,
    PROGRAM_CREDITS,
    PROGRAM_ENERGY,
    VIRUS,
    in_program_order,
)
from hackmatrix.env.entities import (
    hit_enemies,
    occupancy,
    remove,
    remove_all_at,
    sweep_enemies,
    valid_slots,
)
from hackmatrix.env.state import EnvState
from hackmatrix.env.undo import restore_snapshot

I32 = jnp.int32
_ROWS, _COLS = np.indices((GRID, GRID))
_COST_CREDITS = np.array(PROGRAM_CREDITS, np.int32)
_COST_ENERGY = np.array(PROGRAM_ENERGY, np.int32)
_MAX_HP = np.array(ENEMY_MAX_HP, np.int32)
_NO_KILLS = np.int32(0)


def _ring(row, col):
    """Return bool[6, 6]: the in-bounds 8-neighbourhood of (row, col), the cell itself excluded."""
    dist = jnp.maximum(jnp.abs(_ROWS - row), jnp.abs(_COLS - col))
    return dist == 1


def _on_block(state):
    """Return bool[MAX_ENEMIES]: live enemies standing on a block cell."""
    e = state.enemies
    # A bitboard lookup per enemy: under vmap on CPU a gather costs more.
    return valid_slots(e) & has_cell(*pack(state.grid.content == BLOCK), e.row, e.col)


def _any_enemy(state):
    return state.enemies.count > 0


def _any_transmission(state):
    return state.transmissions.count > 0


def _any_enemy_of(enemy_type):
    def applicable(state):
        e = state.enemies
        return (valid_slots(e) & (e.type == enemy_type)).any()
    return applicable


def _crowded_ring(state):
    """Some block, enemy or transmission stands on the player's 8 neighbours (CRASH)."""
    crowded = (state.grid.content == BLOCK) | occupancy(state.enemies) | occupancy(
        state.transmissions)
    return (crowded & _ring(state.player.row, state.player.col)).any()


def _in_line(axis):
    def applicable(state):
        e = state.enemies
        return (valid_slots(e) & (getattr(e, axis) == getattr(state.player, axis))).any()
    return applicable


def _reducible(state):
    g = state.grid
    return ((g.content == BLOCK) & ~g.siphoned & (g.block_spawn > 0)).any()


def _always(state):
    return jnp.bool_(True)


def program_affordable(state: EnvState) -> jnp.ndarray:
    """Return bool[23]: credits >= cost_c and energy >= cost_e for every program."""
    p = state.player
    return (p.credits >= _COST_CREDITS) & (p.energy >= _COST_ENERGY)


def _shove(state, away):
    """PUSH (away=True) / PULL (away=False): move every enemy one cell, first claim wins."""
    e, p = state.enemies, state.player
    live = valid_slots(e)
    sign = 1 if away else -1
    dr = jnp.sign(e.row - p.row) * sign
    dc = jnp.sign(e.col - p.col) * sign
    cand_r = jnp.stack([e.row + dr, e.row + dr, e.row], axis=1)
    cand_c = jnp.stack([e.col + dc, e.col, e.col + dc], axis=1)
    ok = jnp.stack([jnp.ones_like(live), dr != 0, dc != 0], axis=1)
    ok &= (cand_r >= 0) & (cand_r < GRID) & (cand_c >= 0) & (cand_c < GRID)
    if not away:
        ok &= (cand_r != p.row) | (cand_c != p.col)
    dist = jnp.abs(cand_r - p.row) + jnp.abs(cand_c - p.col)
    pick = jnp.argmax(jnp.where(ok, dist if away else -dist, -GRID * GRID), axis=1)
    dest_r = jnp.take_along_axis(cand_r, pick[:, None], axis=1)[:, 0]
    dest_c = jnp.take_along_axis(cand_c, pick[:, None], axis=1)[:, 0]
    wants = live & ok.any(axis=1)
    # Applying in list order, the first enemy that wants a cell always gets it (nobody earlier
    # can have claimed it) and every later one wanting the same cell stays: no loop needed.
    same = (dest_r[:, None] == dest_r[None, :]) & (dest_c[:, None] == dest_c[None, :])
    earlier = np.tri(live.shape[0], k=-1, dtype=bool)
    claimed = (same & earlier & wants[None, :]).any(axis=1)
    moves = wants & ~claimed
    enemies = e.replace(row=jnp.where(moves, dest_r, e.row), col=jnp.where(moves, dest_c, e.col))
    return state.replace(enemies=enemies), _NO_KILLS


def push(key, state):
    """PUSH: every enemy one cell away from the player (max distance), collisions by claim."""
    return _shove(state, away=True)


def pull(key, state):
    """PULL: every enemy one cell toward the player (min distance, never onto the player)."""
    return _shove(state, away=False)


def _remove_at_cells(entities, cells):
    """RemoveAt on every cell of bool[6,6] `cells`: at most one kill per cell, by its first entity.

    One vectorised removal instead of one `remove_all_at` per cell (CRASH has 8 cells, 2 lists).
    """
    live = valid_slots(entities)
    same = (entities.row[:, None] == entities.row[None, :]) & (
        entities.col[:, None] == entities.col[None, :]
    )
    earlier = np.tri(live.shape[0], k=-1, dtype=bool)
    first_on_cell = live & ~(same & earlier & live[None, :]).any(axis=1)
    hit = live & cells[entities.row, entities.col]
    kills = (hit & first_on_cell & ~entities.from_scheduled).sum().astype(I32)
    return remove(entities, hit), kills


def crash(key, state):
    """CRASH: destroy blocks and remove enemies and transmissions on the player's 8 neighbours."""
    g = state.grid
    ring = _ring(state.player.row, state.player.col)
    destroyed = ring & (g.content == BLOCK)
    # The cell keeps its resource and `siphoned` flag; the block payload goes with the block so
    # the grid matches a cell that never held one (canonical state).
    grid = g.replace(
        content=jnp.where(destroyed, EMPTY, g.content),
        block_kind=jnp.where(destroyed, KIND_NONE, g.block_kind),
        block_points=jnp.where(destroyed, 0, g.block_points),
        block_program=jnp.where(destroyed, -1, g.block_program),
        block_spawn=jnp.where(destroyed, 0, g.block_spawn),
    )
    enemies, e_kills = _remove_at_cells(state.enemies, ring)
    trans, t_kills = _remove_at_cells(state.transmissions, ring)
    return state.replace(grid=grid, enemies=enemies, transmissions=trans), e_kills + t_kills


def warp(key, state):
    """WARP: jump onto a random enemy or transmission and RemoveAt that kind on its cell."""
    e, t = state.enemies, state.transmissions
    idx = rng.warp_draw(key, e.count + t.count)
    to_enemy = idx < e.count
    e_idx = jnp.clip(idx, 0, e.row.shape[0] - 1)
    t_idx = jnp.clip(idx - e.count, 0, t.row.shape[0] - 1)
    dest_row = jnp.where(to_enemy, e.row[e_idx], t.row[t_idx])
    dest_col = jnp.where(to_enemy, e.col[e_idx], t.col[t_idx])
    e_new, e_kills = remove_all_at(e, dest_row, dest_col, e.from_scheduled)
    t_new, t_kills = remove_all_at(t, dest_row, dest_col, t.from_scheduled)

    def pick(if_enemy, if_transmission):
        return jnp.where(to_enemy, if_enemy, if_transmission)

    state = state.replace(
        player=state.player.replace(row=dest_row, col=dest_col),
        enemies=jax.tree.map(pick, e_new, e),
        transmissions=jax.tree.map(pick, t, t_new),
    )
    return state, pick(e_kills, t_kills)


def poly(key, state):
    """POLY: every enemy becomes a random other type, keeping its damage (Sweep follows)."""
    e = state.enemies
    draw = rng.poly_draws(key)
    # Index `draw` into the 3 other types in type order skips the enemy's own type.
    new_type = draw + (draw >= e.type)
    max_hp = jnp.asarray(_MAX_HP)
    new_hp = max_hp[new_type] - (max_hp[e.type] - e.hp)
    live = valid_slots(e)
    enemies = e.replace(type=jnp.where(live, new_type, e.type), hp=jnp.where(live, new_hp, e.hp))
    return state.replace(enemies=enemies), _NO_KILLS


def wait(key, state):
    """WAIT: no effect (the step pipeline ends the turn)."""
    return state, _NO_KILLS


def _hit(state, mask, damage):
    """Hit every live enemy in `mask` (Sweep follows in apply_program)."""
    return state.replace(enemies=hit_enemies(state.enemies, mask, damage)), _NO_KILLS


def debug(key, state):
    """DEBUG: Hit(attack) every enemy standing on a block."""
    return _hit(state, _on_block(state), state.player.attack)


def row(key, state):
    """ROW: Hit(attack) every enemy in the player's row."""
    return _hit(state, state.enemies.row == state.player.row, state.player.attack)


def col(key, state):
    """COL: Hit(attack) every enemy in the player's column."""
    return _hit(state, state.enemies.col == state.player.col, state.player.attack)


def undo(key, state):
    """UNDO: restore the snapshot (this also takes back the cost just paid)."""
    return restore_snapshot(state), _NO_KILLS


def step(key, state):
    """STEP: skip the next enemy turn that would run."""
    return state.replace(step_pending=jnp.bool_(True)), _NO_KILLS


def siph_plus(key, state):
    """SIPH+: one more data siphon."""
    p = state.player
    return state.replace(player=p.replace(data_siphons=p.data_siphons + 1)), _NO_KILLS


def exch(key, state):
    """EXCH: energy + 4 (its cost is 4 credits)."""
    p = state.player
    return state.replace(player=p.replace(energy=p.energy + 4)), _NO_KILLS


def show(key, state):
    """SHOW: reveal cryptogs until the end of the stage."""
    return state.replace(show=jnp.bool_(True)), _NO_KILLS


def reset(key, state):
    """RESET: hp back to 3."""
    return state.replace(player=state.player.replace(hp=I32(MAX_HP))), _NO_KILLS


def calm(key, state):
    """CALM: no scheduled spawns until the end of the stage."""
    return state.replace(calm=jnp.bool_(True)), _NO_KILLS


def d_bom(key, state):
    """D_BOM: kill the nearest daemon (first on ties), Hit(1) the enemies around its cell."""
    e, p = state.enemies, state.player
    daemon = valid_slots(e) & (e.type == DAEMON)
    dist = jnp.abs(e.row - p.row) + jnp.abs(e.col - p.col)
    target = jnp.argmin(jnp.where(daemon, dist, GRID * GRID))
    found = daemon.any()
    # hp 0 lets the common Sweep remove it and count the kill unless it is from_scheduled; it is
    # outside its own ring, so the Hit below never touches it.
    enemies = e.replace(hp=e.hp.at[target].set(jnp.where(found, 0, e.hp[target])))
    around = _ring(e.row[target], e.col[target])[e.row, e.col] & found
    return state.replace(enemies=hit_enemies(enemies, around, 1)), _NO_KILLS


def delay(key, state):
    """DELAY: every transmission timer + 3."""
    t = state.transmissions
    timer = jnp.where(valid_slots(t), t.timer + 3, t.timer)
    return state.replace(transmissions=t.replace(timer=timer)), _NO_KILLS


def anti_v(key, state):
    """ANTI-V: Hit(1) every virus."""
    return _hit(state, state.enemies.type == VIRUS, 1)


def score(key, state):
    """SCORE: score + (8 - stage)."""
    p = state.player
    return state.replace(player=p.replace(score=p.score + NUM_STAGES - state.stage)), _NO_KILLS


def reduc(key, state):
    """REDUC: every unsiphoned block's spawn - 1 (floor 0)."""
    g = state.grid
    fewer = (g.content == BLOCK) & ~g.siphoned
    spawn = jnp.where(fewer, jnp.maximum(0, g.block_spawn - 1), g.block_spawn)
    return state.replace(grid=g.replace(block_spawn=spawn)), _NO_KILLS


def atk_plus(key, state):
    """ATK+: attack + 1 (no cap), one more use this stage."""
    p = state.player
    return (
        state.replace(player=p.replace(attack=p.attack + 1), atk_uses=state.atk_uses + 1),
        _NO_KILLS,
    )


def hack(key, state):
    """HACK: Hit(attack) every enemy on a siphoned cell."""
    e = state.enemies
    return _hit(state, state.grid.siphoned[e.row, e.col], state.player.attack)


class ProgramRule(NamedTuple):
    """How the JAX engine runs one program of constants.PROGRAMS (rules §5.1, §5.2)."""

    applicable: Callable  # EnvState -> bool (costs and ownership are checked by the mask)
    effect: Callable  # (key, EnvState) -> (EnvState, kills before the Sweep)


RULES = {
    "PUSH": ProgramRule(_any_enemy, push),
    "PULL": ProgramRule(_any_enemy, pull),
    "CRASH": ProgramRule(_crowded_ring, crash),
    "WARP": ProgramRule(lambda s: _any_enemy(s) | _any_transmission(s), warp),
    "POLY": ProgramRule(_any_enemy, poly),
    "WAIT": ProgramRule(_always, wait),
    "DEBUG": ProgramRule(lambda s: _on_block(s).any(), debug),
    "ROW": ProgramRule(_in_line("row"), row),
    "COL": ProgramRule(_in_line("col"), col),
    "UNDO": ProgramRule(lambda s: s.undo.valid, undo),
    "STEP": ProgramRule(_always, step),
    "SIPH+": ProgramRule(_always, siph_plus),
    "EXCH": ProgramRule(lambda s: s.player.credits >= 4, exch),
    "SHOW": ProgramRule(lambda s: ~s.show, show),
    "RESET": ProgramRule(lambda s: s.player.hp < MAX_HP, reset),
    "CALM": ProgramRule(lambda s: ~s.calm, calm),
    "D_BOM": ProgramRule(_any_enemy_of(DAEMON), d_bom),
    "DELAY": ProgramRule(_any_transmission, delay),
    "ANTI-V": ProgramRule(_any_enemy_of(VIRUS), anti_v),
    "SCORE": ProgramRule(lambda s: s.stage < NUM_STAGES, score),
    "REDUC": ProgramRule(_reducible, reduc),
    "ATK+": ProgramRule(lambda s: s.atk_uses < 2, atk_plus),
    "HACK": ProgramRule(lambda s: s.grid.siphoned.any(), hack),
}
_RULES = in_program_order(RULES)
_EFFECTS = tuple(rule.effect for rule in _RULES)


def program_applicable(state: EnvState) -> jnp.ndarray:
    """Return bool[23]: the applicability column of rules §5.1 (costs not checked)."""
    return jnp.stack([jnp.asarray(rule.applicable(state), bool) for rule in _RULES])


def apply_program(key, state: EnvState, program):
    """Pay the cost of `program` (int 0..22, may be traced), apply its effect; (state, kills)."""
    p = state.player
    paid = state.replace(
        player=p.replace(
            credits=p.credits - jnp.asarray(_COST_CREDITS)[program],
            energy=p.energy - jnp.asarray(_COST_ENERGY)[program],
        )
    )
    state, kills = jax.lax.switch(program, _EFFECTS, key, paid)
    # One Sweep for all programs: between actions every live enemy has hp >= 1, so it only
    # removes what this effect's Hits (or D_BOM's target) brought to 0, and under vmap one sort
    # replaces one per damaging branch.
    enemies, swept = sweep_enemies(state.enemies)
    return state.replace(enemies=enemies), kills + swept
