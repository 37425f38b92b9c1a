"""Action and observation spaces: gymnax's own classes when gymnax is installed.

With gymnax (the `interop` extra) the env returns `gymnax.environments.spaces` objects, so code
that checks `isinstance(space, Discrete)` (rejax, gymnax's wrappers) accepts them. Without it, two
classes with the same constructor and attributes stand in, and nothing else changes.

gymnax is imported when a space is built, not with this module: importing gymnax builds JAX
arrays, which starts the XLA backend, and `jax.distributed.initialize()` (run.distributed) must
run before that.
"""

import jax
import jax.numpy as jnp


def discrete(num_categories: int):
    """Return gymnax's `Discrete(num_categories)`, or the stand-in without gymnax."""
    try:
        from gymnax.environments.spaces import Discrete as space
    except ImportError:  # gymnax is optional; the trainer needs only `.n` and `.shape`
        space = Discrete
    return space(num_categories)


def box(low, high, shape):
    """Return gymnax's float32 `Box(low, high, shape)`, or the stand-in without gymnax."""
    try:
        from gymnax.environments.spaces import Box as space
    except ImportError:
        space = Box
    return space(low, high, shape)


class Discrete:
    """A discrete space {0, ..., num_categories - 1}: gymnax's API, used without gymnax."""

    def __init__(self, num_categories: int, *, dtype=jnp.int32):
        self.n = num_categories
        self.shape = ()
        self.dtype = jnp.dtype(dtype)

    def sample(self, key) -> jnp.ndarray:
        """Draw a uniform element (ignores any action mask)."""
        return jax.random.randint(key, (), 0, self.n, dtype=self.dtype)

    def contains(self, x) -> jnp.ndarray:
        """Return whether x lies in the space."""
        x = jnp.asarray(x, dtype=self.dtype)
        return (x >= 0) & (x < self.n)


class Box:
    """An array space with elementwise bounds: gymnax's API, used without gymnax."""

    def __init__(self, low, high, shape, dtype=jnp.float32):
        self.low, self.high, self.shape, self.dtype = low, high, shape, dtype

    def sample(self, key) -> jnp.ndarray:
        """Draw a uniform element (finite bounds only)."""
        return jax.random.uniform(key, self.shape, minval=self.low,
                                  maxval=self.high).astype(self.dtype)

    def contains(self, x) -> jnp.ndarray:
        """Return whether every element of x lies within the bounds."""
        return jnp.all(x >= self.low) & jnp.all(x <= self.high)
