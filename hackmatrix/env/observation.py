"""The array observation of rules §9, laid out as constants.OBS_LAYOUT describes."""

import jax.numpy as jnp

from hackmatrix.env.constants import (
    BLOCK,
    CRYPTOG,
    ENEMY_MAX_HP,
    EXIT,
    GRID,
    KIND_DATA,
    KIND_PROGRAM,
    KIND_QUESTION,
    MAX_HP,
    NUM_CELLS,
    NUM_ENEMY_TYPES,
    NUM_PROGRAMS,
    NUM_STAGES,
    OBS_LAYOUT,
    PICKUP,
)
from hackmatrix.env.entities import valid_slots
from hackmatrix.env.state import EnvState

F32 = jnp.float32
_PLAYER = OBS_LAYOUT.vector[0]
# Enemy hp is scaled by the largest max hp of any type, so it lies in [0, 1].
_ENEMY_HP_SCALE = max(ENEMY_MAX_HP)


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
    features = {
        "row": p.row / 5, "col": p.col / 5, "hp": p.hp / MAX_HP,
        "credits": jnp.minimum(p.credits / 50, 1.0), "energy": jnp.minimum(p.energy / 50, 1.0),
        "stage": (state.stage - 1) / (NUM_STAGES - 1), "data_siphons": p.data_siphons / 10,
        "attack": (p.attack - 1) / 2, "show": state.show, "calm": state.calm,
    }
    return jnp.stack([features[name] for name in _PLAYER.labels]).astype(F32)


def _enemy_channels(state: EnvState) -> dict:
    """Return the enemy channel groups, each float32[36, n]: the first enemy on each cell,
    zeroed where it is a hidden cryptog."""
    e = state.enemies
    per_enemy = {
        "enemy_type": e.type[:, None] == jnp.arange(NUM_ENEMY_TYPES)[None, :],
        "enemy_hp": (e.hp / _ENEMY_HP_SCALE)[:, None],
        "enemy_stunned": e.stunned[:, None],
        "enemy_from_siphon": e.from_siphon[:, None],
    }
    per_cell = _first_per_cell(e, jnp.concatenate(list(per_enemy.values()), axis=1, dtype=F32))
    rows = jnp.arange(NUM_CELLS) // GRID
    cols = jnp.arange(NUM_CELLS) % GRID
    visible = (rows == state.player.row) | (cols == state.player.col) | state.show
    hidden = (per_cell[:, CRYPTOG] > 0) & ~visible
    per_cell = jnp.where(hidden[:, None], 0.0, per_cell)
    return _split_columns(per_cell, per_enemy)


def _split_columns(columns, groups: dict) -> dict:
    """Cut float32[36, n] into {group: its columns}, in the order and widths of `groups`."""
    out, start = {}, 0
    for name, value in groups.items():
        out[name] = columns[:, start:start + value.shape[1]]
        start += value.shape[1]
    return out


def _cell_channels(state: EnvState) -> dict:
    """Return the cell channel groups (blocks, transmission timer, resources, content)."""
    g = state.grid
    flat = {k: v.reshape(NUM_CELLS) for k, v in vars(g).items()}
    is_block = flat["content"] == BLOCK
    kind = jnp.where(is_block, flat["block_kind"], 0)
    is_data = kind == KIND_DATA
    is_program = kind == KIND_PROGRAM
    t = state.transmissions
    columns = {
        "block_kind": kind[:, None] == jnp.array([KIND_DATA, KIND_PROGRAM, KIND_QUESTION]),
        "block_points": jnp.where(is_data, flat["block_points"], 0) / 9,
        "block_siphoned": is_block & flat["siphoned"],
        "block_program": is_program[:, None] & (
            flat["block_program"][:, None] == jnp.arange(NUM_PROGRAMS)[None, :]),
        "block_spawn": jnp.where(is_data | is_program, flat["block_spawn"], 0) / 9,
        "transmission_timer": _first_per_cell(t, jnp.minimum(t.timer / 4, 1.0)[:, None]),
        "credits": flat["credits"] / 3,
        "energy": flat["energy"] / 3,
        "pickup": flat["content"] == PICKUP,
        "exit": flat["content"] == EXIT,
        "siphon_center": flat["siphon_center"],
    }
    return {k: (v if v.ndim == 2 else v[:, None]).astype(F32) for k, v in columns.items()}


def observe_structured(state: EnvState) -> dict:
    """Return {"player": f32[10], "programs": f32[23], "grid": f32[6, 6, 42]} (OBS_LAYOUT)."""
    groups = {**_enemy_channels(state), **_cell_channels(state)}
    grid = jnp.concatenate([groups[g.name] for g in OBS_LAYOUT.channels], axis=1)
    return {
        "player": _player_features(state),
        "programs": state.player.owned.astype(F32),
        "grid": grid.reshape(OBS_LAYOUT.grid_shape + (-1,)),
    }


def observe(state: EnvState) -> jnp.ndarray:
    """Return the flat float32[1545] observation (rules §9, OBS_LAYOUT)."""
    parts = observe_structured(state)
    vector = [parts[g.name] for g in OBS_LAYOUT.vector]
    return jnp.concatenate(vector + [parts["grid"].reshape(-1)]).astype(F32)
