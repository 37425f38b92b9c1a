"""Helpers for the compacted entity lists: validity, cell queries, append and stable removal."""

import jax.numpy as jnp
from jax import lax

from hackmatrix.env.bfs import cell_bits, unpack
from hackmatrix.env.state import Enemies


def valid_slots(entities) -> jnp.ndarray:
    """Return bool[capacity]: True for slots below `count` (the live list positions)."""
    return jnp.arange(entities.row.shape[0]) < entities.count


def at_cell(entities, row, col) -> jnp.ndarray:
    """Return bool[capacity]: live entities standing on (row, col)."""
    return valid_slots(entities) & (entities.row == row) & (entities.col == col)


def occupancy(entities) -> jnp.ndarray:
    """Return bool[6, 6]: cells holding at least one live entity."""
    # Unpacking the bitboard is cheaper under vmap on CPU than a scatter into the grid.
    return unpack(*occupied_bits(entities))


def occupied_bits(entities):
    """Return the bitboard words (lo, hi) (see bfs.py) of the cells holding a live entity.

    An or-reduction of per-entity cell bits: under vmap on CPU about half the cost of a
    scatter into a bool[6, 6] grid.
    """
    lo, hi = cell_bits(entities.row, entities.col)
    live = valid_slots(entities)
    return (lax.reduce(jnp.where(live, lo, 0), jnp.int32(0), lax.bitwise_or, (0,)),
            lax.reduce(jnp.where(live, hi, 0), jnp.int32(0), lax.bitwise_or, (0,)))


def _fields(entities):
    return {k: v for k, v in vars(entities).items() if k != "count"}


def remove(entities, remove_mask):
    """Delete the live entities where `remove_mask` is True, keeping the others' list order."""
    keep = valid_slots(entities) & ~remove_mask
    capacity = keep.shape[0]
    # Scatter kept slots to their compacted positions; removed ones go out of range and are
    # dropped (cheaper than a sort under vmap).
    target = jnp.where(keep, jnp.cumsum(keep) - 1, capacity)
    fields = {
        k: jnp.zeros_like(v).at[target].set(v, mode="drop") for k, v in _fields(entities).items()
    }
    return entities.replace(count=keep.sum().astype(jnp.int32), **fields)


def remove_one(entities, index, condition):
    """Delete the live entity in list slot `index` when `condition`, keeping the others' order.

    Same result as remove() with a one-slot mask (dead slots zeroed too), without a scatter:
    under vmap a per-field select of the list and its one-slot shift is much cheaper.
    """
    slots = jnp.arange(entities.row.shape[0])
    do = jnp.asarray(condition) & (index >= 0) & (index < entities.count)
    count = entities.count - do.astype(jnp.int32)
    shift = do & (slots >= index)
    fields = {
        k: jnp.where(slots >= count, jnp.zeros_like(v),
                     jnp.where(shift, jnp.concatenate([v[1:], v[:1]]), v))
        for k, v in _fields(entities).items()
    }
    return entities.replace(count=count, **fields)


def append(entities, condition=True, **values):
    """Append one entity (fields given by keyword) when `condition`; dropped if full [D5]."""
    capacity = entities.row.shape[0]
    do = jnp.asarray(condition) & (entities.count < capacity)
    idx = jnp.minimum(entities.count, capacity - 1)
    fields = {}
    for k, v in _fields(entities).items():
        new_v = jnp.asarray(values[k], v.dtype) if k in values else jnp.zeros((), v.dtype)
        fields[k] = v.at[idx].set(jnp.where(do, new_v, v[idx]))
    return entities.replace(count=entities.count + do.astype(jnp.int32), **fields)


def remove_all_at(entities, row, col, not_counted_flag):
    """RemoveAt(c) of rules §5.2: delete every entity on (row, col).

    Returns (entities, kills): kills is 1 iff the first removed entity (list order) has
    `not_counted_flag` False (callers pass from_scheduled), else 0 — at most one kill per cell.
    """
    hits = at_cell(entities, row, col)
    first = jnp.argmax(hits)
    kills = (hits.any() & ~not_counted_flag[first]).astype(jnp.int32)
    return remove(entities, hits), kills


def sweep_enemies(enemies: Enemies):
    """Sweep of rules §5.2: remove enemies with hp <= 0; return (enemies, kills not scheduled)."""
    dead = valid_slots(enemies) & (enemies.hp <= 0)
    kills = (dead & ~enemies.from_scheduled).sum().astype(jnp.int32)
    return remove(enemies, dead), kills


def hit_enemies(enemies: Enemies, mask, damage) -> Enemies:
    """Hit(e, d) of rules §5.2 for every live enemy in `mask`: lose hp, stunned if it survives."""
    mask = mask & valid_slots(enemies)
    hp = jnp.where(mask, jnp.maximum(0, enemies.hp - damage), enemies.hp)
    stunned = enemies.stunned | (mask & (hp > 0))
    return enemies.replace(hp=hp, stunned=stunned)
