"""The 15 reward components of rules §8, in float32, and their ordered sum."""

from dataclasses import dataclass

import numpy as np

from hackmatrix.env.constants import (
    RESET_ACTION,
    REWARD_KEYS,
    REWARD_SUM_ORDER,
    SIPHON_ACTION,
    STAGE_REWARDS,
)

F32 = np.float32


@dataclass
class StepFacts:
    """Everything rules §8 needs about one step, gathered by Game.step."""

    action: int
    score0: int
    hp0: int
    credits0: int
    energy0: int
    stage0: int
    d0: int
    d1: int
    kills: int
    picked: bool
    completed: bool
    quality: tuple  # (found, missed_credits, missed_energy) of rules §6.2
    score1: int
    hp1: int
    credits1: int
    energy1: int
    stage1: int
    won: bool
    siphon_enemy_adjacent: bool


def breakdown(f: StepFacts) -> dict:
    """Return {key: float32} for the 15 components of rules §8."""
    died = f.hp1 == 0
    if died:
        delta = 0
    elif f.completed:
        delta = f.d0
    else:
        delta = f.d0 - f.d1
    found, missed_credits, missed_energy = f.quality
    siphon_quality = (F32(-0.5) * (F32(0.05) * F32(missed_credits) + F32(0.05) * F32(missed_energy))
                      if f.action == SIPHON_ACTION and found else F32(0.0))
    death = F32(-0.5) * F32(sum(STAGE_REWARDS[: f.stage1 - 1])) if died else F32(0.0)
    comps = {
        "step_penalty": F32(-0.01),
        "stage_completion": F32(STAGE_REWARDS[f.stage0 - 1]) if f.completed else F32(0.0),
        "score_gain": F32(0.5) * F32(f.score1 - f.score0),
        "kills": F32(0.3) * F32(f.kills),
        "data_siphon": F32(1.0) if f.picked else F32(0.0),
        "distance_shaping": F32(0.05) * F32(max(0, delta)),
        "victory": F32(500.0) + F32(100.0) * F32(f.score1) if f.won else F32(0.0),
        "death_penalty": death,
        "resource_gain": (F32(0.05) * F32(f.credits1 - f.credits0)
                          + F32(0.05) * F32(f.energy1 - f.energy0)),
        "resource_holding": (F32(0.01) * F32(f.credits1 + f.energy1) if f.completed
                             else F32(0.0)),
        "damage_penalty": F32(-1.0) * F32(max(0, f.hp0 - f.hp1)),
        "hp_recovery": F32(1.0) * F32(max(0, f.hp1 - f.hp0)),
        "siphon_quality": siphon_quality,
        "siphon_death_penalty": F32(-10.0) if died and f.siphon_enemy_adjacent else F32(0.0),
        "program_waste": F32(-0.3) if f.action == RESET_ACTION and f.hp0 == 2 else F32(0.0),
    }
    return {k: F32(comps[k]) for k in REWARD_KEYS}


def total(components: dict) -> np.float32:
    """Left-to-right float32 sum in REWARD_SUM_ORDER (Swift's order)."""
    acc = F32(0.0)
    for k in REWARD_SUM_ORDER:
        acc = F32(acc + components[k])
    return acc


def zero_breakdown() -> dict:
    """All 15 components at 0 (an invalid action)."""
    return {k: F32(0.0) for k in REWARD_KEYS}
