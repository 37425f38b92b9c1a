"""The array observation of rules §9: player(10) ++ programs(23) ++ grid(6x6x42)."""

import jax.numpy as jnp

from hackmatrix.env.constants import (
    BLOCK,
    CRYPTOG,
    EXIT,
    GRID,
    KIND_DATA,
    KIND_PROGRAM,
    KIND_QUESTION,
    NUM_CELLS,
    NUM_PROGRAMS,
    PICKUP,
)
from hackmatrix.env.entities import valid_slots
from hackmatrix.env.state import EnvState

F32 = jnp.float32


def _first_per_cell(entities, feats):
    """Return float32[36, F]: `feats` [capacity, F] of the first live entity on each cell, else 0.

    A scatter-min of slot indices followed by one gather; much cheaper under vmap than a
    [capacity, 36] comparison.
    """
    capacity = entities.row.shape[0]
    cell = jnp.where(valid_slots(entities), entities.row * GRID + entities.col, NUM_CELLS)
    first = jnp.full((NUM_CELLS + 1,), capacity, jnp.int32).at[cell].min(jnp.arange(capacity))
    padded = jnp.concatenate([feats.astype(F32), jnp.zeros((1, feats.shape[1]), F32)])
    return padded[first[:NUM_CELLS]]


def _player_features(state: EnvState):
    p = state.player
    return jnp.stack([
        p.row / 5, p.col / 5, p.hp / 3,
        jnp.minimum(p.credits / 50, 1.0), jnp.minimum(p.energy / 50, 1.0),
        (state.stage - 1) / 7, p.data_siphons / 10, (p.attack - 1) / 2,
        state.show, state.calm,
    ]).astype(F32)


def _enemy_channels(state: EnvState):
    """Return float32[36, 7]: channels 0-6 (first enemy per cell, hidden cryptogs zeroed)."""
    e = state.enemies
    feats = jnp.concatenate([
        e.type[:, None] == jnp.arange(4)[None, :], (e.hp / 3)[:, None],
        e.stunned[:, None], e.from_siphon[:, None],
    ], axis=1, dtype=F32)
    per_cell = _first_per_cell(e, feats)
    rows = jnp.arange(NUM_CELLS) // GRID
    cols = jnp.arange(NUM_CELLS) % GRID
    visible = (rows == state.player.row) | (cols == state.player.col) | state.show
    hidden = (per_cell[:, CRYPTOG] > 0) & ~visible
    return jnp.where(hidden[:, None], 0.0, per_cell)


def _cell_channels(state: EnvState):
    """Return float32[36, 35]: channels 7-41 (blocks, transmission timer, resources, content)."""
    g = state.grid
    flat = {k: v.reshape(NUM_CELLS) for k, v in vars(g).items()}
    is_block = flat["content"] == BLOCK
    kind = jnp.where(is_block, flat["block_kind"], 0)
    is_data = kind == KIND_DATA
    is_program = kind == KIND_PROGRAM
    program_onehot = is_program[:, None] & (
        flat["block_program"][:, None] == jnp.arange(NUM_PROGRAMS)[None, :])
    t = state.transmissions
    timer = _first_per_cell(t, jnp.minimum(t.timer / 4, 1.0)[:, None])
    head = [
        is_data, is_program, kind == KIND_QUESTION,
        jnp.where(is_data, flat["block_points"], 0) / 9,
        is_block & flat["siphoned"],
    ]
    tail = [
        jnp.where(is_data | is_program, flat["block_spawn"], 0) / 9,
        flat["credits"] / 3, flat["energy"] / 3,
        flat["content"] == PICKUP, flat["content"] == EXIT, flat["siphon_center"],
    ]
    return jnp.concatenate([
        jnp.stack(head, axis=1).astype(F32), program_onehot.astype(F32),
        jnp.stack(tail[:1], axis=1).astype(F32), timer, jnp.stack(tail[1:], axis=1).astype(F32),
    ], axis=1)


def observe_structured(state: EnvState) -> dict:
    """Return {"player": f32[10], "programs": f32[23], "grid": f32[6, 6, 42]}."""
    grid = jnp.concatenate([_enemy_channels(state), _cell_channels(state)], axis=1)
    return {
        "player": _player_features(state),
        "programs": state.player.owned.astype(F32),
        "grid": grid.reshape(GRID, GRID, -1),
    }


def observe(state: EnvState) -> jnp.ndarray:
    """Return the flat float32[1545] observation (rules §9)."""
    parts = observe_structured(state)
    return jnp.concatenate(
        [parts["player"], parts["programs"], parts["grid"].reshape(-1)]).astype(F32)
