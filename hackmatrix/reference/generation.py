"""New games, stage generation and transmission spawning (rules §2.5, §4.5, §4.7)."""

import numpy as np

from hackmatrix.env import rng
from hackmatrix.env.constants import (
    BLOCK,
    BONUS_CREDITS,
    BONUS_ENERGY,
    BONUS_SIPHONS,
    CORNERS,
    EMPTY,
    GEN_ATTEMPTS,
    INITIAL_SCHED_INTERVAL,
    KIND_DATA,
    KIND_PROGRAM,
    KIND_QUESTION,
    MAX_TRANSMISSIONS,
    NUM_PROGRAMS,
    PICKUP,
    PROGRAM_SPAWN,
    SPAWN_TRIES,
)
from hackmatrix.reference import draws
from hackmatrix.reference.geometry import all_cells, orthogonal
from hackmatrix.reference.model import (
    Cell,
    Player,
    State,
    Transmission,
    corner_layout,
    fresh_grid,
)

_F32_045 = np.float32(0.45)
_F32_090 = np.float32(0.90)


def new_game(key) -> State:
    """Reset (rules §2.5): random corner, starting bonus, stage 1 generated from the same key."""
    corner_idx, bonus_idx = draws.reset_draws(key)
    row, col = CORNERS[corner_idx]
    player = Player(row=row, col=col)
    if bonus_idx == 0:
        player.credits += BONUS_CREDITS
    elif bonus_idx == 1:
        player.energy += BONUS_ENERGY
    else:
        player.data_siphons += BONUS_SIPHONS
    state = State(player=player, sched_interval=INITIAL_SCHED_INTERVAL)
    generate_stage(state, key)
    return state


def generate_stage(state: State, key) -> None:
    """GenerateStage (rules §4.5): fresh grid, exit, blocks, resources, `stage` transmissions."""
    state.turn = 0
    state.sched_next = state.sched_interval
    state.show = state.calm = state.step_pending = False
    state.atk_uses = 0
    state.history = []  # [D3]
    exit_idx, count = draws.generation_header(key)
    player_cell = state.player.cell
    state.exit = [c for c in CORNERS if c != player_cell][exit_idx]
    state.grid = fresh_grid()
    corner_layout(state.grid, player_cell, state.exit)
    blocks = _place_blocks(state, key, count)
    for (r, c), block in blocks.items():
        state.grid[r][c] = block
    _place_resources(state, key)
    for k in range(state.stage):
        spawn_transmission(state, key, rng.SPAWN_STAGE, k, scheduled=False, siphon=False)


def _place_blocks(state: State, key, count: int) -> dict:
    """Return the accepted block layout {cell: Cell}, or {} when every attempt fails."""
    occupied = {(e.row, e.col) for e in state.enemies}
    occupied |= {(t.row, t.col) for t in state.transmissions}
    for attempt in range(GEN_ATTEMPTS):
        blocks = _attempt_blocks(key, attempt, count, occupied)
        if _layout_valid(state, blocks):
            return blocks
    return {}


def _attempt_blocks(key, attempt: int, count: int, occupied: set) -> dict:
    """Draw one attempt's blocks (rules §4.5 step 2)."""
    blocks = {}
    used = []
    for k in range(count):
        eligible = [c for c in all_cells()
                    if c not in CORNERS and c not in occupied and c not in blocks]
        if not eligible:
            break  # [D6]: Swift would loop forever here.
        unused = [p for p in range(NUM_PROGRAMS) if p not in used]
        cell_idx, is_data, is_question, points, prog_idx = draws.block_draws(
            key, attempt, k, len(eligible), len(unused)
        )
        block = Cell(content=BLOCK)
        if is_data:
            block.kind = KIND_QUESTION if is_question else KIND_DATA
            block.points = block.spawn = points
        else:
            program = unused[prog_idx]
            used.append(program)
            block.kind = KIND_QUESTION if is_question else KIND_PROGRAM
            block.program, block.spawn = program, PROGRAM_SPAWN[program]
        blocks[eligible[cell_idx]] = block
    return blocks


def _layout_valid(state: State, blocks: dict) -> bool:
    """Acceptance test (rules §4.5 step 2): (a) connectivity from (0,0), (b) no walled-in block."""
    def expandable(c):
        return c not in blocks and (c != state.exit or c == (0, 0))

    # BFS from (0,0) where the exit may be reached but is not expanded.
    reached = {(0, 0)}
    frontier = [(0, 0)]
    while frontier:
        cur = frontier.pop()
        if not expandable(cur):
            continue
        for n in orthogonal(cur):
            if n not in reached and n not in blocks:
                reached.add(n)
                frontier.append(n)
    if any(c not in blocks and c not in reached for c in all_cells()):
        return False
    return all(any(n not in blocks for n in orthogonal(b)) for b in blocks)


def _place_resources(state: State, key) -> None:
    """Resources (rules §4.5 step 3) on every EMPTY or PICKUP cell, row-major."""
    u, credit_bit = draws.resource_draws(key)
    for r, c in all_cells():
        cell = state.grid[r][c]
        if cell.content not in (EMPTY, PICKUP):
            continue
        # float32 comparisons, as in the JAX engine.
        amount = 1 if u[r][c] < _F32_045 else 2 if u[r][c] < _F32_090 else 3
        if credit_bit[r][c]:
            cell.credits = amount
        else:
            cell.energy = amount


def _empty_for_spawn(state: State, pos) -> bool:
    """Empty(c) of rules §4.7."""
    return (pos != state.player.cell and not state.enemies_at(pos)
            and not state.transmissions_at(pos) and not state.cell(pos).is_block)


def in_line_of_fire(state: State, pos) -> bool:
    """LoF(c) (rules §4.7): same row/column and no enemy or block strictly between the player and c.

    Choice: "strictly before c" is read as strictly between — the player's own cell is not
    examined (it may hold a stacked enemy or be a block the player WARPed onto).
    """
    pr, pc = state.player.cell
    if pos[0] != pr and pos[1] != pc:
        return False
    dr = (pos[0] > pr) - (pos[0] < pr)
    dc = (pos[1] > pc) - (pos[1] < pc)
    cur = (pr + dr, pc + dc)
    while cur != pos:
        if state.enemies_at(cur) or state.cell(cur).is_block:
            return False
        cur = (cur[0] + dr, cur[1] + dc)
    return True


def spawn_transmission(state: State, key, event: int, occurrence: int, scheduled: bool,
                       siphon: bool) -> None:
    """SpawnTransmission (rules §4.7): phase A avoids the line of fire, phase B does not."""
    tries, enemy_type = draws.spawn_draws(key, event, occurrence)
    picked = None
    for pos in tries[:SPAWN_TRIES]:
        if _empty_for_spawn(state, pos) and not in_line_of_fire(state, pos):
            picked = pos
            break
    if picked is None:
        for pos in tries[SPAWN_TRIES:2 * SPAWN_TRIES]:
            if _empty_for_spawn(state, pos):
                picked = pos
                break
    if picked is None or len(state.transmissions) >= MAX_TRANSMISSIONS:
        return  # request lost, or capacity reached [D5]
    state.transmissions.append(Transmission(
        row=picked[0], col=picked[1], timer=1, enemy_type=enemy_type,
        from_scheduled=scheduled, from_siphon=siphon,
    ))
