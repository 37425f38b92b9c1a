"""Run an expensive function only where a per-environment flag is set, also under `vmap`.

`lax.cond` under `vmap` becomes a select that computes both branches for every environment, so an
auto-reset or a stage generation would run for the whole batch on every step. `apply_where`
keeps the cond semantics but, when batched, gathers the flagged environments into chunks of
`CHUNK`, runs the function on those chunks only (a while loop over ceil(#flagged / CHUNK)
chunks) and scatters the results back. Unbatched it is a plain `lax.cond`. `apply_rows` is the
same gather-run-scatter for a caller that holds the batch axis itself (e.g. the rollout's value
of the final observations of truncated episodes).
"""

import jax
import jax.numpy as jnp
from jax import lax
from jax.custom_batching import custom_vmap

# Environments processed per chunk: large enough to amortise the loop, small enough that a step
# with a handful of resets does not pay for many idle lanes.
CHUNK = 16


def _broadcast(x, batched, size):
    return x if batched else jnp.broadcast_to(x, (size,) + x.shape)


def apply_rows(active, fn, args, default, lanes=CHUNK):
    """Return fn's rows where `active`, else default's rows; fn runs on flagged rows only.

    `active` is bool[N]; `args` and `default` have a leading N axis; `fn` maps a (lanes, ...)
    batch of args rows to a (lanes, ...) batch with default's structure. The flagged rows go
    through fn in chunks of `lanes` (a while loop over ceil(#flagged / lanes) chunks).
    """
    size = active.shape[0]
    lanes = min(lanes, size)
    n_active = active.sum()
    # Flagged lanes first, in lane order, padded so that every chunk slice is in range: a
    # scatter to their ranks (an argsort costs 5x more on CPU).
    rank = jnp.where(active, jnp.cumsum(active) - 1, size + lanes)
    order = jnp.zeros(size + lanes, jnp.int32).at[rank].set(
        jnp.arange(size, dtype=jnp.int32), mode="drop")

    def cond(carry):
        return carry[0] < n_active

    def body(carry):
        start, out = carry
        idx = lax.dynamic_slice(order, (start,), (lanes,))
        live = start + jnp.arange(lanes) < n_active
        result = fn(*jax.tree.map(lambda x: x[idx], args))
        # Padding lanes scatter out of range and are dropped.
        target = jnp.where(live, idx, size)
        out = jax.tree.map(lambda o, r: o.at[target].set(r.astype(o.dtype), mode="drop"),
                           out, result)
        return start + lanes, out

    _, out = lax.while_loop(cond, body, (jnp.asarray(0, order.dtype), default))
    return out


def apply_where(active, fn, args, default, chunk=CHUNK):
    """Return fn(*args) where `active`, else `default` (fn's output has default's structure).

    `chunk` is the number of lanes per loop trip when batched (capped at the batch size).
    """

    @custom_vmap
    def run(active, args, default):
        return lax.cond(active, lambda a, d: fn(*a), lambda a, d: d, args, default)

    @run.def_vmap
    def run_batched(axis_size, in_batched, active, args, default):
        active_b, args_b, default_b = in_batched
        active = _broadcast(active, active_b, axis_size)
        args = jax.tree.map(lambda x, b: _broadcast(x, b, axis_size), args, args_b)
        out = jax.tree.map(lambda x, b: _broadcast(x, b, axis_size), default, default_b)
        out = apply_rows(active, jax.vmap(fn), args, out, chunk)
        return out, jax.tree.map(lambda _: True, out)

    return run(jnp.asarray(active, bool), args, default)
