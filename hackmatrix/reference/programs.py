"""The 23 programs: applicability and effects (rules §5).

`RULES` binds each row of constants.PROGRAMS, by name, to its applicability and effect.
"""

from collections.abc import Callable
from typing import NamedTuple

from hackmatrix.env.constants import (
    DAEMON,
    ENEMY_MAX_HP,
    MAX_HP,
    NUM_ENEMY_TYPES,
    NUM_STAGES,
    PROGRAM_CREDITS,
    PROGRAM_ENERGY,
    VIRUS,
    in_program_order,
)
from hackmatrix.reference import draws
from hackmatrix.reference.geometry import all_cells, eight_neighbours, in_bounds, manhattan
from hackmatrix.reference.model import State


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _crowded_ring(state: State) -> bool:
    return any(state.cell(c).is_block or state.enemies_at(c) or state.transmissions_at(c)
               for c in eight_neighbours(state.player.cell))


def _reducible(state: State) -> bool:
    return any(state.cell(c).is_block and not state.cell(c).siphoned and state.cell(c).spawn > 0
               for c in all_cells())


def _any_enemy_of(state: State, enemy_type: int) -> bool:
    return any(e.type == enemy_type for e in state.enemies)


def program_usable(state: State, program: int) -> bool:
    """Mask bit of action 5+program: owned, affordable and applicable (rules §3)."""
    p = state.player
    return (p.owned[program] and p.credits >= PROGRAM_CREDITS[program]
            and p.energy >= PROGRAM_ENERGY[program] and _RULES[program].applicable(state))


def hit(enemy, damage: int) -> None:
    """Hit(e, d) of rules §5.2: lose hp (not below 0); stunned if it survives."""
    enemy.hp = max(0, enemy.hp - damage)
    if enemy.hp > 0:
        enemy.stunned = True


def sweep(state: State) -> int:
    """Sweep of rules §5.2: remove enemies with hp <= 0; return the kills (not from_scheduled)."""
    dead = [e for e in state.enemies if e.hp <= 0]
    state.enemies = [e for e in state.enemies if e.hp > 0]
    return sum(not e.from_scheduled for e in dead)


def remove_at(entities: list, pos) -> tuple:
    """RemoveAt(c) (rules §5.2): drop every entity on `pos`; at most one kill (the first's)."""
    here = [x for x in entities if (x.row, x.col) == pos]
    kept = [x for x in entities if (x.row, x.col) != pos]
    kills = 1 if here and not here[0].from_scheduled else 0
    return kept, kills


def _push_pull(state: State, pull: bool) -> None:
    """PUSH / PULL: compute every destination first, then apply in list order with claims."""
    player = state.player.cell
    wanted = []
    for e in state.enemies:
        sign = -1 if pull else 1
        dr = sign * _sign(e.row - player[0])
        dc = sign * _sign(e.col - player[1])
        cands = [(e.row + dr, e.col + dc)]
        if dr != 0:
            cands.append((e.row + dr, e.col))
        if dc != 0:
            cands.append((e.row, e.col + dc))
        cands = [c for c in cands if in_bounds(c) and not (pull and c == player)]
        if not cands:
            wanted.append(None)
            continue
        dists = [manhattan(c, player) for c in cands]
        best = min(dists) if pull else max(dists)
        wanted.append(cands[dists.index(best)])
    claimed = set()
    for e, dest in zip(state.enemies, wanted):
        if dest is None or dest in claimed:
            continue
        e.row, e.col = dest
        claimed.add(dest)


def _crash(state: State) -> int:
    kills = 0
    for c in eight_neighbours(state.player.cell):
        if state.cell(c).is_block:
            state.cell(c).clear_block()
        state.enemies, k_e = remove_at(state.enemies, c)
        state.transmissions, k_t = remove_at(state.transmissions, c)
        kills += k_e + k_t
    return kills


def _warp(state: State, key) -> int:
    targets = state.enemies + state.transmissions
    idx = draws.warp_draw(key, len(targets))
    pos = (targets[idx].row, targets[idx].col)
    state.player.row, state.player.col = pos
    if idx < len(state.enemies):
        state.enemies, kills = remove_at(state.enemies, pos)
    else:
        state.transmissions, kills = remove_at(state.transmissions, pos)
    return kills


def _poly(state: State, key) -> int:
    choices = draws.poly_draws(key)
    for i, e in enumerate(state.enemies):
        damage = ENEMY_MAX_HP[e.type] - e.hp
        others = [t for t in range(NUM_ENEMY_TYPES) if t != e.type]
        e.type = others[choices[i]]
        e.hp = ENEMY_MAX_HP[e.type] - damage
    return sweep(state)


def _d_bom(state: State) -> int:
    player = state.player.cell
    daemons = [e for e in state.enemies if e.type == DAEMON]
    target = min(daemons, key=lambda e: manhattan((e.row, e.col), player))  # first on ties
    state.enemies = [e for e in state.enemies if e is not target]
    kills = 0 if target.from_scheduled else 1
    blast = set(eight_neighbours((target.row, target.col)))
    for e in state.enemies:
        if (e.row, e.col) in blast:
            hit(e, 1)
    return kills + sweep(state)


def _hit_where(state: State, damage: int, predicate) -> int:
    for e in state.enemies:
        if predicate(e):
            hit(e, damage)
    return sweep(state)


def _hit_attack_where(predicate):
    """Effect: Hit(attack) every enemy for which predicate(state, enemy) holds, then Sweep."""
    def effect(state: State, key) -> int:
        return _hit_where(state, state.player.attack, lambda e: predicate(state, e))
    return effect


def _on_block(state: State, e) -> bool:
    return state.cell((e.row, e.col)).is_block


def _on_siphoned(state: State, e) -> bool:
    return state.cell((e.row, e.col)).siphoned


def _undo(state: State, key) -> int:
    state.restore(state.history.pop())
    return 0


def _step(state: State, key) -> int:
    state.step_pending = True
    return 0


def _siph_plus(state: State, key) -> int:
    state.player.data_siphons += 1
    return 0


def _exch(state: State, key) -> int:
    state.player.energy += 4
    return 0


def _show(state: State, key) -> int:
    state.show = True
    return 0


def _reset(state: State, key) -> int:
    state.player.hp = MAX_HP
    return 0


def _calm(state: State, key) -> int:
    state.calm = True
    return 0


def _delay(state: State, key) -> int:
    for t in state.transmissions:
        t.timer += 3
    return 0


def _score(state: State, key) -> int:
    state.player.score += NUM_STAGES - state.stage
    return 0


def _reduc(state: State, key) -> int:
    for c in all_cells():
        cell = state.cell(c)
        if cell.is_block and not cell.siphoned:
            cell.spawn = max(0, cell.spawn - 1)
    return 0


def _atk_plus(state: State, key) -> int:
    state.player.attack += 1
    state.atk_uses += 1
    return 0


def _shove(pull: bool):
    def effect(state: State, key) -> int:
        _push_pull(state, pull)
        return 0
    return effect


class ProgramRule(NamedTuple):
    """How the reference engine runs one program of constants.PROGRAMS (rules §5.1, §5.2)."""

    applicable: Callable  # State -> bool (costs and ownership are checked by the mask)
    effect: Callable  # (State, key) -> kills, the state updated in place


RULES = {
    "PUSH": ProgramRule(lambda s: bool(s.enemies), _shove(pull=False)),
    "PULL": ProgramRule(lambda s: bool(s.enemies), _shove(pull=True)),
    "CRASH": ProgramRule(_crowded_ring, lambda s, key: _crash(s)),
    "WARP": ProgramRule(lambda s: bool(s.enemies) or bool(s.transmissions), _warp),
    "POLY": ProgramRule(lambda s: bool(s.enemies), _poly),
    "WAIT": ProgramRule(lambda s: True, lambda s, key: 0),
    "DEBUG": ProgramRule(lambda s: any(_on_block(s, e) for e in s.enemies),
                         _hit_attack_where(_on_block)),
    "ROW": ProgramRule(lambda s: any(e.row == s.player.row for e in s.enemies),
                       _hit_attack_where(lambda s, e: e.row == s.player.row)),
    "COL": ProgramRule(lambda s: any(e.col == s.player.col for e in s.enemies),
                       _hit_attack_where(lambda s, e: e.col == s.player.col)),
    "UNDO": ProgramRule(lambda s: bool(s.history), _undo),
    "STEP": ProgramRule(lambda s: True, _step),
    "SIPH+": ProgramRule(lambda s: True, _siph_plus),
    "EXCH": ProgramRule(lambda s: s.player.credits >= 4, _exch),
    "SHOW": ProgramRule(lambda s: not s.show, _show),
    "RESET": ProgramRule(lambda s: s.player.hp < MAX_HP, _reset),
    "CALM": ProgramRule(lambda s: not s.calm, _calm),
    "D_BOM": ProgramRule(lambda s: _any_enemy_of(s, DAEMON), lambda s, key: _d_bom(s)),
    "DELAY": ProgramRule(lambda s: bool(s.transmissions), _delay),
    "ANTI-V": ProgramRule(lambda s: _any_enemy_of(s, VIRUS),
                          lambda s, key: _hit_where(s, 1, lambda e: e.type == VIRUS)),
    "SCORE": ProgramRule(lambda s: s.stage < NUM_STAGES, _score),
    "REDUC": ProgramRule(_reducible, _reduc),
    "ATK+": ProgramRule(lambda s: s.atk_uses < 2, _atk_plus),
    "HACK": ProgramRule(lambda s: any(s.cell(c).siphoned for c in all_cells()),
                        _hit_attack_where(_on_siphoned)),
}
_RULES = in_program_order(RULES)


def run_program(state: State, program: int, key) -> int:
    """Pay the cost, apply the effect of rules §5.2, and return the kills it made."""
    p = state.player
    p.credits -= PROGRAM_CREDITS[program]
    p.energy -= PROGRAM_ENERGY[program]
    return _RULES[program].effect(state, key)
