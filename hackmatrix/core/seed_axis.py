"""The seed axis: every runner leads with one (length 1 for a one-seed run).

A one-seed run's checkpoint stores the runner without the axis, as it did before the axis was
always carried, so checkpoints written by older versions still load and tools that read a plain
run's parameters see them unstacked. A seed group (`run.seeds`) stores the stacked runner.
"""

import jax
import numpy as np


def without_seed_axis(tree):
    """Return a host pytree with the length-1 seed axis dropped (what a one-seed run stores)."""
    return member_of(tree, 0)


def with_seed_axis(tree):
    """Return a host pytree with a length-1 seed axis added (a stored one-seed runner, loaded)."""
    return jax.tree.map(lambda x: np.asarray(x)[None], tree)


def member_of(tree, index: int):
    """Return member `index` of a host pytree stacked on the seed axis (the axis dropped)."""
    return jax.tree.map(lambda x: np.asarray(x)[index], tree)


def unstacked_shapes(shapes):
    """Return the shape structs of one seed's runner (the seed axis dropped)."""
    return jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape[1:], s.dtype), shapes)
