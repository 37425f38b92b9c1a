"""UNDO history of depth 1 (rules §5.2, [D2]-[D4])."""

import jax.numpy as jnp

from hackmatrix.env.state import EnvState, Snapshot, empty_snapshot


def push_snapshot(state: EnvState) -> EnvState:
    """Record the current state as the newest (only) UNDO snapshot (end of an enemy turn)."""
    snap = Snapshot(
        valid=jnp.bool_(True), player=state.player, turn=state.turn, enemies=state.enemies,
        transmissions=state.transmissions, grid=state.grid, show=state.show, calm=state.calm,
        atk_uses=state.atk_uses,
    )
    return state.replace(undo=snap)


def restore_snapshot(state: EnvState) -> EnvState:
    """Pop the snapshot and restore it; stage, exit, step_pending and scheduling stay as they are."""
    snap = state.undo
    return state.replace(
        player=snap.player, turn=snap.turn, enemies=snap.enemies,
        transmissions=snap.transmissions, grid=snap.grid, show=snap.show, calm=snap.calm,
        atk_uses=snap.atk_uses, undo=empty_snapshot(),
    )


def clear_history(state: EnvState) -> EnvState:
    """Empty the history ([D3]: at every stage start)."""
    return state.replace(undo=empty_snapshot())
