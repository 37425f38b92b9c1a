"""Rich random scenarios for differential testing: every program owned, crowded boards, late stages.

Each starts from a real generated board (a reference new game) and is then populated at random
from `seed`, in one of four flavours chosen by seed % 4:
  0 mid-game: many enemies and transmissions, plenty of credits and energy, some siphoned cells;
  1 crowded and fragile: low HP, enemies (many from siphons) close to the player;
  2 endgame: stage 7 or 8, the player next to the exit (stage completion, victory);
  3 siphoner: data siphons in hand, stacked and on-block enemies, sometimes an enemy or a
    transmission on the player's own cell (as after WARP), an UNDO snapshot.
"""

import jax
import numpy as np

from hackmatrix.env.constants import (
    ENEMY_MAX_HP,
    ENEMY_NAMES,
    GRID,
    MAX_HP,
    NUM_ENEMY_TYPES,
    PROGRAM_NAMES,
)
from hackmatrix.reference.game import Game


def _cells(rs, pool, n) -> list:
    pool = list(pool)
    idx = rs.permutation(len(pool))[:n]
    return [pool[i] for i in idx]


def _enemy(rs, cell, siphon_bias) -> dict:
    etype = int(rs.randint(NUM_ENEMY_TYPES))
    return {"type": ENEMY_NAMES[etype], "row": cell[0], "col": cell[1],
            "hp": int(rs.randint(1, ENEMY_MAX_HP[etype] + 1)),
            "disabled": int(rs.randint(0, 3)) if rs.rand() < 0.2 else 0,
            "stunned": bool(rs.rand() < 0.1), "from_scheduled": bool(rs.rand() < 0.3),
            "from_siphon": bool(rs.rand() < siphon_bias)}


def _near(cell, radius) -> list:
    return [(r, c) for r in range(GRID) for c in range(GRID)
            if 0 < abs(r - cell[0]) + abs(c - cell[1]) <= radius]


def rich_scenario(seed: int) -> dict:
    """Return a valid, densely populated scenario built from `seed`."""
    rs = np.random.RandomState(seed)
    flavour = seed % 4
    sc = Game.new(jax.random.PRNGKey(seed)).to_scenario()
    blocks = {(b["row"], b["col"]) for b in sc["blocks"]}
    exit_cell = tuple(sc["exit"])
    free = [(r, c) for r in range(GRID) for c in range(GRID) if (r, c) not in blocks]
    player = (sc["player"]["row"], sc["player"]["col"])
    if flavour == 2:
        sc["stage"] = int(rs.randint(7, 9))
        near_exit = [c for c in _near(exit_cell, 1) if c not in blocks]
        player = near_exit[rs.randint(len(near_exit))] if near_exit else player
    else:
        sc["stage"] = int(rs.randint(1, 9))
        if rs.rand() < 0.5:
            player = free[rs.randint(len(free))]
    sc["owned"] = list(PROGRAM_NAMES)
    sc["player"].update(
        row=player[0], col=player[1],
        hp=1 if flavour == 1 else int(rs.randint(1, MAX_HP + 1)),
        credits=int(rs.randint(0, 60)), energy=int(rs.randint(0, 60)),
        data_siphons=int(rs.randint(1, 4)) if flavour == 3 else int(rs.randint(0, 2)),
        attack=int(rs.randint(1, 4)), score=int(rs.randint(0, 30)))
    sc["turn"] = int(rs.randint(0, 10))
    sc["flags"] = {"show": bool(rs.rand() < 0.2), "calm": bool(rs.rand() < 0.2),
                   "step_pending": bool(rs.rand() < 0.1), "atk_uses": int(rs.randint(0, 3))}
    sc["schedule"] = {"interval": int(rs.randint(4, 13)), "next": int(rs.randint(0, 15))}
    sc["pending_spawns"] = int(rs.randint(0, 5)) if rs.rand() < 0.3 else 0
    open_cells = [c for c in free if c != player]
    pool = _near(player, 2) if flavour == 1 else open_cells
    pool = [c for c in pool if c not in blocks] or open_cells
    n_enemies = int(rs.randint(3, 13))
    cells = _cells(rs, pool, n_enemies)
    if flavour == 3:
        cells += _cells(rs, blocks, 2)  # enemies on blocks (DEBUG, glitch-like positions)
        cells += cells[:1]  # one stacked pair
        cells += [player] if rs.rand() < 0.5 else []  # as after a WARP onto a stack
    siphon_bias = 0.6 if flavour == 1 else 0.3
    sc["enemies"] = [_enemy(rs, c, siphon_bias) for c in cells]
    taken = {(e["row"], e["col"]) for e in sc["enemies"]}
    t_cells = _cells(rs, [c for c in open_cells if c not in taken], int(rs.randint(1, 8)))
    if flavour == 3 and rs.rand() < 0.3:
        t_cells.append(player)  # a transmission left under the player by a WARP
    sc["transmissions"] = [
        {"row": c[0], "col": c[1], "timer": int(rs.randint(1, 5)),
         "enemy_type": ENEMY_NAMES[rs.randint(NUM_ENEMY_TYPES)], "from_scheduled": bool(rs.rand() < 0.3),
         "from_siphon": bool(rs.rand() < 0.3)} for c in t_cells]
    non_blocks = [c for c in free if c != exit_cell]
    sc["siphoned"] = sorted([list(c) for c in _cells(rs, non_blocks, int(rs.randint(0, 4)))])
    for b in sc["blocks"]:
        if rs.rand() < 0.15:  # a siphoned block is revealed and spent
            if b["kind"] == "question":
                b["kind"] = "data" if b["program"] is None else "program"
            b["spawn"], b["siphoned"] = 0, True
    if flavour == 3 or rs.rand() < 0.3:
        undo = {k: sc[k] for k in ("player", "owned", "turn", "enemies", "transmissions",
                                   "blocks", "resources", "pickups", "siphoned",
                                   "siphon_centers")}
        undo["flags"] = {"show": False, "calm": False, "atk_uses": 0}
        undo["player"] = dict(undo["player"], credits=int(rs.randint(0, 20)))
        sc["undo"] = undo
    return Game.from_scenario(sc).to_scenario()  # validated, canonical

