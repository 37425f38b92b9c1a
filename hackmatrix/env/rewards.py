"""The 15 reward components of rules §8 and their float32 total."""

import jax.numpy as jnp
import numpy as np
from flax import struct

from hackmatrix.env.bfs import exit_distance
from hackmatrix.env.constants import (
    RESET_ACTION,
    REWARD_KEYS,
    REWARD_SUM_ORDER,
    SIPHON_ACTION,
    STAGE_REWARDS,
)
from hackmatrix.env.entities import valid_slots
from hackmatrix.env.state import EnvState

F32 = jnp.float32
# Host (NumPy) tables: importing the env must not start the XLA backend, since
# jax.distributed.initialize() has to run before that (run.distributed).
_STAGE_REWARDS = np.asarray(STAGE_REWARDS, np.float32)
# Entry k: R[1] + ... + R[k] (stages completed before reaching stage k + 1).
_STAGES_BEFORE = np.asarray([sum(STAGE_REWARDS[:k]) for k in range(len(STAGE_REWARDS))],
                            np.float32)


@struct.dataclass
class StepEvents:
    """What happened during one step, recorded by the step pipeline for the rewards."""

    action: jnp.ndarray  # int32
    d0: jnp.ndarray  # int32: ExitDist before the action (0 if unreachable)
    kills: jnp.ndarray  # int32 (rules §7.3)
    picked: jnp.ndarray  # bool: a PICKUP was collected by moving
    completed: jnp.ndarray  # bool: a stage completion happened (including the winning one)
    won: jnp.ndarray  # bool: the game was won this step
    siphon_found: jnp.ndarray  # bool: siphon quality found a better position (rules §6.2)
    missed_credits: jnp.ndarray  # int32
    missed_energy: jnp.ndarray  # int32
    valid: jnp.ndarray  # bool: the action passed the mask


def _f(x):
    return jnp.asarray(x, F32)


def _siphon_enemy_adjacent(state: EnvState):
    e = state.enemies
    dist = jnp.abs(e.row - state.player.row) + jnp.abs(e.col - state.player.col)
    return jnp.any(valid_slots(e) & e.from_siphon & (dist == 1))


def calculate_reward(before: EnvState, after: EnvState, events: StepEvents):
    """Return (total float32, {key: float32} for the 15 REWARD_KEYS); all 0 if invalid."""
    p0, p1 = before.player, after.player
    died = p1.hp == 0
    completed = events.completed
    d1 = exit_distance(after)
    delta = jnp.where(died, 0, jnp.where(completed, events.d0, events.d0 - d1))
    zero = _f(0.0)
    stage_rewards, stages_before = jnp.asarray(_STAGE_REWARDS), jnp.asarray(_STAGES_BEFORE)
    parts = {
        "step_penalty": _f(-0.01),
        "stage_completion": jnp.where(completed, stage_rewards[before.stage - 1], zero),
        "score_gain": _f(0.5) * _f(p1.score - p0.score),
        "kills": _f(0.3) * _f(events.kills),
        "data_siphon": jnp.where(events.picked, _f(1.0), zero),
        "distance_shaping": _f(0.05) * _f(jnp.maximum(0, delta)),
        "victory": jnp.where(events.won, _f(500.0) + _f(100.0) * _f(p1.score), zero),
        "death_penalty": jnp.where(died, _f(-0.5) * stages_before[after.stage - 1], zero),
        "resource_gain": (_f(0.05) * _f(p1.credits - p0.credits)
                          + _f(0.05) * _f(p1.energy - p0.energy)),
        "resource_holding": jnp.where(completed, _f(0.01) * _f(p1.credits + p1.energy), zero),
        "damage_penalty": _f(-1.0) * _f(jnp.maximum(0, p0.hp - p1.hp)),
        "hp_recovery": _f(1.0) * _f(jnp.maximum(0, p1.hp - p0.hp)),
        "siphon_quality": jnp.where(
            (events.action == SIPHON_ACTION) & events.siphon_found,
            _f(-0.5) * (_f(0.05) * _f(events.missed_credits)
                        + _f(0.05) * _f(events.missed_energy)),
            zero),
        "siphon_death_penalty": jnp.where(died & _siphon_enemy_adjacent(after), _f(-10.0), zero),
        "program_waste": jnp.where((events.action == RESET_ACTION) & (p0.hp == 2), _f(-0.3), zero),
    }
    breakdown = {k: jnp.where(events.valid, parts[k], zero).astype(F32) for k in REWARD_KEYS}
    total = breakdown[REWARD_SUM_ORDER[0]]
    for key in REWARD_SUM_ORDER[1:]:
        total = total + breakdown[key]
    return total, breakdown
