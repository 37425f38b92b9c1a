"""The 23 programs: applicability and effects (rules §5)."""

from hackmatrix.env.constants import (
    ANTI_V,
    ATK_PLUS,
    CALM,
    COL,
    CRASH,
    D_BOM,
    DAEMON,
    DEBUG,
    DELAY,
    ENEMY_MAX_HP,
    EXCH,
    HACK,
    MAX_HP,
    NUM_STAGES,
    POLY,
    PROGRAM_CREDITS,
    PROGRAM_ENERGY,
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
from hackmatrix.reference import draws
from hackmatrix.reference.geometry import all_cells, eight_neighbours, in_bounds, manhattan
from hackmatrix.reference.model import State


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def applicable(state: State, program: int) -> bool:
    """The applicability column of rules §5.1 (costs and ownership are checked by the mask)."""
    p = state.player
    enemies = state.enemies
    if program in (PUSH, PULL, POLY):
        return bool(enemies)
    if program == CRASH:
        return any(state.cell(c).is_block or state.enemies_at(c) or state.transmissions_at(c)
                   for c in eight_neighbours(p.cell))
    if program == WARP:
        return bool(enemies) or bool(state.transmissions)
    if program == DEBUG:
        return any(state.cell((e.row, e.col)).is_block for e in enemies)
    if program == ROW:
        return any(e.row == p.row for e in enemies)
    if program == COL:
        return any(e.col == p.col for e in enemies)
    if program == UNDO:
        return bool(state.history)
    if program == EXCH:
        return p.credits >= 4
    if program == SHOW:
        return not state.show
    if program == RESET:
        return p.hp < MAX_HP
    if program == CALM:
        return not state.calm
    if program == D_BOM:
        return any(e.type == DAEMON for e in enemies)
    if program == DELAY:
        return bool(state.transmissions)
    if program == ANTI_V:
        return any(e.type == VIRUS for e in enemies)
    if program == SCORE:
        return state.stage < NUM_STAGES
    if program == REDUC:
        return any(state.cell(c).is_block and not state.cell(c).siphoned and state.cell(c).spawn > 0
                   for c in all_cells())
    if program == ATK_PLUS:
        return state.atk_uses < 2
    if program == HACK:
        return any(state.cell(c).siphoned for c in all_cells())
    return program in (WAIT, STEP, SIPH_PLUS)


def program_usable(state: State, program: int) -> bool:
    """Mask bit of action 5+program: owned, affordable and applicable (rules §3)."""
    p = state.player
    return (p.owned[program] and p.credits >= PROGRAM_CREDITS[program]
            and p.energy >= PROGRAM_ENERGY[program] and applicable(state, program))


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
        others = [t for t in range(4) if t != e.type]
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


def run_program(state: State, program: int, key) -> int:
    """Pay the cost, apply the effect of rules §5.2, and return the kills it made."""
    p = state.player
    p.credits -= PROGRAM_CREDITS[program]
    p.energy -= PROGRAM_ENERGY[program]
    if program in (PUSH, PULL):
        _push_pull(state, pull=program == PULL)
    elif program == CRASH:
        return _crash(state)
    elif program == WARP:
        return _warp(state, key)
    elif program == POLY:
        return _poly(state, key)
    elif program == DEBUG:
        return _hit_where(state, p.attack, lambda e: state.cell((e.row, e.col)).is_block)
    elif program == ROW:
        return _hit_where(state, p.attack, lambda e: e.row == p.row)
    elif program == COL:
        return _hit_where(state, p.attack, lambda e: e.col == p.col)
    elif program == UNDO:
        state.restore(state.history.pop())
    elif program == STEP:
        state.step_pending = True
    elif program == SIPH_PLUS:
        p.data_siphons += 1
    elif program == EXCH:
        p.energy += 4
    elif program == SHOW:
        state.show = True
    elif program == RESET:
        p.hp = MAX_HP
    elif program == CALM:
        state.calm = True
    elif program == D_BOM:
        return _d_bom(state)
    elif program == DELAY:
        for t in state.transmissions:
            t.timer += 3
    elif program == ANTI_V:
        return _hit_where(state, 1, lambda e: e.type == VIRUS)
    elif program == SCORE:
        p.score += NUM_STAGES - state.stage
    elif program == REDUC:
        for c in all_cells():
            cell = state.cell(c)
            if cell.is_block and not cell.siphoned:
                cell.spawn = max(0, cell.spawn - 1)
    elif program == ATK_PLUS:
        p.attack += 1
        state.atk_uses += 1
    elif program == HACK:
        return _hit_where(state, p.attack, lambda e: state.cell((e.row, e.col)).siphoned)
    return 0
