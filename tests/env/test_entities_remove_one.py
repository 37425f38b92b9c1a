"""entities.remove_one: the scatter-free single removal equals remove() with a one-slot mask."""

import jax
import jax.numpy as jnp
import numpy as np

from hackmatrix.env.entities import remove, remove_one
from hackmatrix.env.state import empty_enemies


def _enemies(n):
    e = empty_enemies()
    k = jnp.arange(e.row.shape[0])
    live = k < n
    return e.replace(
        count=jnp.int32(n), type=jnp.where(live, k % 4, 0), row=jnp.where(live, k % 6, 0),
        col=jnp.where(live, (k * 5) % 6, 0), hp=jnp.where(live, 1 + k % 3, 0),
        disabled=jnp.where(live, k % 2, 0), stunned=live & (k % 3 == 0),
        from_scheduled=live & (k % 2 == 1), from_siphon=live & (k % 5 == 0),
    )


def _same(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(x, y)


def test_remove_one_matches_remove_for_every_slot_and_condition():
    e = _enemies(5)
    slots = jnp.arange(e.row.shape[0])
    for index in range(7):
        for condition in (True, False):
            expected = remove(e, (slots == index) & condition)
            _same(remove_one(e, jnp.int32(index), condition), expected)


def test_remove_one_shifts_the_tail_and_zeroes_the_freed_slot():
    out = remove_one(_enemies(4), jnp.int32(1), True)
    assert int(out.count) == 3
    assert out.row[:5].tolist() == [0, 2, 3, 0, 0]
    assert out.col[:5].tolist() == [0, 4, 3, 0, 0]
    assert out.hp[:5].tolist() == [1, 3, 1, 0, 0]


def test_remove_one_full_list_and_vmap():
    e = _enemies(36)
    out = remove_one(e, jnp.int32(35), True)
    assert int(out.count) == 35 and int(out.row[35]) == 0 and int(out.hp[35]) == 0
    batch = jax.tree.map(lambda x: jnp.stack([x, x]), _enemies(3))
    out = jax.jit(jax.vmap(remove_one))(batch, jnp.array([0, 2]), jnp.array([True, True]))
    assert out.count.tolist() == [2, 2]
    assert out.row[:, :3].tolist() == [[1, 2, 0], [0, 1, 0]]
