"""The enemy turn and deterministic enemy movement (rules §4.6, §7.1)."""

from hackmatrix.env import rng
from hackmatrix.env.constants import (
    ENEMY_MAX_HP,
    ENEMY_STEPS,
    GLITCH,
    MAX_ENEMIES,
    MAX_PENDING_SPAWNS,
)
from hackmatrix.reference import draws
from hackmatrix.reference.generation import spawn_transmission
from hackmatrix.reference.geometry import bfs_distances, in_bounds, manhattan, orthogonal
from hackmatrix.reference.model import Enemy, State


def enemy_turn(state: State, key) -> None:
    """EnemyTurn (rules §4.6); skipped entirely (and disarmed) when STEP is armed."""
    if state.step_pending:
        state.step_pending = False
        return
    state.turn += 1
    _hatch_transmissions(state)
    _enemy_actions(state, key)
    if not state.calm and state.turn >= state.sched_next:
        spawn_transmission(state, key, rng.SPAWN_SCHEDULED, 0, scheduled=True, siphon=False)
        state.sched_next = state.turn + state.sched_interval
    # [D8]: at most MAX_PENDING_SPAWNS queued spawns are processed; the excess is dropped.
    for k in range(min(state.pending_spawns, MAX_PENDING_SPAWNS)):
        spawn_transmission(state, key, rng.SPAWN_SIPHON, k, scheduled=False, siphon=True)
    state.pending_spawns = 0
    for e in state.enemies:
        e.disabled = max(0, e.disabled - 1)
        e.stunned = False
    state.history = [state.snapshot()]  # [D4] depth 1: a push replaces the previous one


def _hatch_transmissions(state: State) -> None:
    """Step (1): count transmission timers down; those at 1 become inert enemies."""
    remaining = []
    for t in state.transmissions:
        if t.timer <= 1:
            if len(state.enemies) < MAX_ENEMIES:  # [D5]: dropped on overflow
                state.enemies.append(Enemy(
                    type=t.enemy_type, row=t.row, col=t.col, hp=ENEMY_MAX_HP[t.enemy_type],
                    disabled=1, stunned=False, from_scheduled=t.from_scheduled,
                    from_siphon=t.from_siphon,
                ))
        else:
            t.timer -= 1
            remaining.append(t)
    state.transmissions = remaining


def _enemy_actions(state: State, key) -> None:
    """Step (2): one or two sub-steps; each enemy attacks at most once per turn."""
    substeps = max((ENEMY_STEPS[e.type] for e in state.enemies), default=1)
    attacked = set()
    for s in range(substeps):
        u = draws.enemy_order_draws(key, s)
        order = sorted(range(len(state.enemies)), key=lambda i: u[i])  # stable sort
        for i in order:
            e = state.enemies[i]
            if e.disabled > 0 or e.stunned or i in attacked or s >= ENEMY_STEPS[e.type]:
                continue
            if manhattan((e.row, e.col), state.player.cell) == 1:
                state.player.hp = max(0, state.player.hp - 1)
                attacked.add(i)
            else:
                move_enemy(state, i)


def move_enemy(state: State, index: int) -> None:
    """MoveEnemy (rules §7.1): shortest path avoiding others, then ignoring them, then greedy."""
    e = state.enemies[index]
    here = (e.row, e.col)
    target = state.player.cell
    occ = {(o.row, o.col) for j, o in enumerate(state.enemies) if j != index}
    occ |= {(t.row, t.col) for t in state.transmissions}

    def terrain(x):
        return in_bounds(x) and (e.type == GLITCH or not state.cell(x).is_block)

    def first_step(passable):
        if not terrain(target):
            return None
        dist = bfs_distances(target, passable)
        best = None
        for n in orthogonal(here):
            if n in dist and (best is None or dist[n] < dist[best]):
                best = n
        return best

    step = first_step(lambda x: terrain(x) and x not in occ)
    if step is None:
        step = first_step(terrain)
        if step is not None and step in occ:
            step = None
    if step is None:
        free = [x for x in orthogonal(here) if terrain(x) and x not in occ]
        if free:
            step = min(free, key=lambda x: manhattan(x, target))  # min keeps the first on ties
    if step is not None:
        e.row, e.col = step
