"""Action and observation spaces: gymnax's own classes when gymnax is installed.

With gymnax (the `interop` extra) the env returns `gymnax.environments.spaces` objects, so code
that checks `isinstance(space, Discrete)` (rejax, gymnax's wrappers) accepts them. Without it, two
classes with the same constructor and attributes stand in, and nothing else changes.
"""

import jax
import jax.numpy as jnp

try:
    from gymnax.environments.spaces import Box, Discrete
except ImportError:  # gymnax is optional; the trainer needs only `.n` and `.shape`

    class Discrete:
        """A discrete space {0, ..., num_categories - 1} (gymnax's API)."""

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
        """An array space with elementwise bounds (gymnax's API)."""

        def __init__(self, low, high, shape, dtype=jnp.float32):
            self.low, self.high, self.shape, self.dtype = low, high, shape, dtype

        def sample(self, key) -> jnp.ndarray:
            """Draw a uniform element (finite bounds only)."""
            return jax.random.uniform(key, self.shape, minval=self.low,
                                      maxval=self.high).astype(self.dtype)

        def contains(self, x) -> jnp.ndarray:
            """Return whether every element of x lies within the bounds."""
            return jnp.all(x >= self.low) & jnp.all(x <= self.high)


__all__ = ["Box", "Discrete"]
