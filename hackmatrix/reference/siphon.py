"""SIPHON (action 4) and its quality measure (rules §6)."""

from hackmatrix.env.constants import KIND_DATA, KIND_PROGRAM
from hackmatrix.reference.geometry import all_cells, cross, manhattan
from hackmatrix.reference.model import State


def siphon(state: State) -> None:
    """Siphon the player's cross: payloads of blocks, resources of other cells (rules §6)."""
    p = state.player
    state.cell(p.cell).siphon_center = True
    for c in cross(p.cell):
        cell = state.cell(c)
        if cell.siphoned:
            continue
        if cell.is_block:
            if cell.has_data_payload():
                p.score += cell.points
                cell.kind = KIND_DATA
            else:
                p.owned[cell.program] = True
                cell.kind = KIND_PROGRAM
            state.pending_spawns += cell.spawn
            cell.spawn = 0
        else:
            p.credits += cell.credits
            p.energy += cell.energy
            cell.credits = cell.energy = 0
        cell.siphoned = True
    p.data_siphons -= 1
    state.sched_interval = max(4, state.sched_interval - 1)
    state.sched_next += 5


def siphon_yield(state: State, pos) -> tuple:
    """Yield (rules §6.1) at `pos`: (credits, energy, sorted data points, unowned programs)."""
    if state.cell(pos).is_block:
        return (0, 0, (), frozenset())
    credits = energy = 0
    data = []
    progs = set()
    for c in cross(pos):
        cell = state.cell(c)
        if cell.siphoned:
            continue
        if not cell.is_block:
            credits += cell.credits
            energy += cell.energy
        elif cell.has_data_payload():
            data.append(cell.points)
        elif not state.player.owned[cell.program]:
            progs.add(cell.program)
    return (credits, energy, tuple(sorted(data)), frozenset(progs))


def siphon_quality(state: State) -> tuple:
    """Missed value (rules §6.2) on the pre-siphon state: (found, missed_credits, missed_energy)."""
    y_credits, y_energy, y_data, y_progs = siphon_yield(state, state.player.cell)
    non_block = [c for c in all_cells() if not state.cell(c).is_block]
    if y_data or y_progs:
        blocks = [c for c in cross(state.player.cell)
                  if state.cell(c).is_block and not state.cell(c).siphoned]
        candidates = [c for c in non_block if all(manhattan(c, b) == 1 for b in blocks)]
    else:
        candidates = non_block
    missed_credits = missed_energy = 0
    found = False
    for c in candidates:
        credits, energy, data, progs = siphon_yield(state, c)
        if (data == y_data and progs == y_progs and credits >= y_credits and energy >= y_energy
                and (credits > y_credits or energy > y_energy)):
            found = True
            missed_credits = max(missed_credits, credits - y_credits)
            missed_energy = max(missed_energy, energy - y_energy)
    return found, missed_credits, missed_energy

