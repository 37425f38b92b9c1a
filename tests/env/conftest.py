"""Fixtures for the world-engine tests: hand-built states and a plain-Python SpawnTransmission."""

import jax.numpy as jnp
import numpy as np
import pytest

from hackmatrix.env import constants as C
from hackmatrix.env import entities, rng
from hackmatrix.env import state as S


def _build(player=(0, 0), hp=3, enemies=(), transmissions=(), blocks=(), exit=(5, 5),
           pickups=(), **fields):
    """Return blank_state() with the given board; enemies/transmissions are dicts in list order."""
    st = S.blank_state()
    grid = st.grid
    content = grid.content.at[5, 5].set(C.EMPTY).at[exit].set(C.EXIT)
    kind, points, spawn = grid.block_kind, grid.block_points, grid.block_spawn
    for cell in blocks:
        content = content.at[cell].set(C.BLOCK)
        kind, points, spawn = kind.at[cell].set(C.KIND_DATA), points.at[cell].set(1), spawn.at[cell].set(1)
    for cell in pickups:
        content = content.at[cell].set(C.PICKUP)
    grid = grid.replace(content=content, block_kind=kind, block_points=points, block_spawn=spawn)
    ens = st.enemies
    for e in enemies:
        e = dict(e)
        e.setdefault("hp", C.ENEMY_MAX_HP[e["type"]])
        ens = entities.append(ens, **e)
    trs = st.transmissions
    for t in transmissions:
        t = dict(t)
        t.setdefault("timer", 1)
        trs = entities.append(trs, **t)
    return st.replace(
        player=st.player.replace(row=jnp.int32(player[0]), col=jnp.int32(player[1]), hp=jnp.int32(hp)),
        grid=grid, enemies=ens, transmissions=trs, exit_row=jnp.int32(exit[0]),
        exit_col=jnp.int32(exit[1]), **fields,
    )


def _ref_spawn_cell(key, st, event, occurrence):
    """Plain-Python rules §4.7 on the draws of rng.spawn_draws: (cell or None, enemy type)."""
    rows, cols, etype = (np.asarray(x) for x in rng.spawn_draws(key, event, occurrence))
    content = np.asarray(st.grid.content)
    pr, pc = int(st.player.row), int(st.player.col)
    ens = [(int(st.enemies.row[i]), int(st.enemies.col[i])) for i in range(int(st.enemies.count))]
    trs = [(int(st.transmissions.row[i]), int(st.transmissions.col[i]))
           for i in range(int(st.transmissions.count))]

    def empty(r, c):
        return (r, c) != (pr, pc) and (r, c) not in ens and (r, c) not in trs and content[r, c] != C.BLOCK

    def lof(r, c):
        if r != pr and c != pc:
            return False
        dr, dc = int(np.sign(r - pr)), int(np.sign(c - pc))
        x, y = pr + dr, pc + dc
        while (x, y) != (r, c):
            if (x, y) in ens or content[x, y] == C.BLOCK:
                return False
            x, y = x + dr, y + dc
        return True

    for j in range(C.SPAWN_TRIES):
        r, c = int(rows[j]), int(cols[j])
        if empty(r, c) and not lof(r, c):
            return (r, c), int(etype)
    for j in range(C.SPAWN_TRIES, 2 * C.SPAWN_TRIES):
        r, c = int(rows[j]), int(cols[j])
        if empty(r, c):
            return (r, c), int(etype)
    return None, int(etype)


@pytest.fixture
def build():
    """State builder: build(player=(r, c), enemies=[{type,row,col,...}], blocks=[(r, c)], ...)."""
    return _build


@pytest.fixture
def ref_spawn_cell():
    """ref_spawn_cell(key, state, event, occurrence) -> ((row, col) or None, enemy type)."""
    return _ref_spawn_cell
