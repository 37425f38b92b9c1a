"""`Game`: the reference engine's public face — one environment step of rules §4.1."""

import numpy as np

from hackmatrix.env.constants import (
    MAX_HP,
    NUM_DIRECTIONS,
    NUM_STAGES,
    PROGRAM_ACTION_OFFSET,
    SIPHON_ACTION,
    WAIT_ACTION,
    WARP_ACTION,
)
from hackmatrix.reference import rewards
from hackmatrix.reference.actions import action_mask, direction_action
from hackmatrix.reference.draws import host_key
from hackmatrix.reference.enemy_turn import enemy_turn
from hackmatrix.reference.generation import generate_stage, new_game
from hackmatrix.reference.geometry import exit_distance, manhattan
from hackmatrix.reference.model import State
from hackmatrix.reference.observation import observe
from hackmatrix.reference.programs import run_program
from hackmatrix.reference.scenario_read import from_scenario
from hackmatrix.reference.scenario_write import to_scenario
from hackmatrix.reference.siphon import siphon, siphon_quality


def complete_stage(state: State, key) -> None:
    """CompleteStage (rules §4.4): +1 HP, then the next stage, or the win after stage 8."""
    state.player.hp = min(MAX_HP, state.player.hp + 1)
    if state.stage < NUM_STAGES:
        state.stage += 1
        state.sched_interval = 13 - state.stage
        generate_stage(state, key)
    else:
        state.won = True


class Game:
    """One HackMatrix game in plain Python, step-for-step identical to the JAX engine."""

    def __init__(self, state: State):
        self.state = state

    @classmethod
    def new(cls, key) -> "Game":
        """Start a game exactly as the JAX `reset(key, params)` does."""
        return cls(new_game(host_key(key)))

    @classmethod
    def from_scenario(cls, mapping) -> "Game":
        """Build a game from a scenario mapping (docs/scenarios.md); raises ScenarioError."""
        return cls(from_scenario(mapping))

    def to_scenario(self) -> dict:
        """Return the canonical scenario of the current state."""
        return to_scenario(self.state)

    def action_mask(self) -> list:
        """Return the 28 valid-action flags (rules §3)."""
        return action_mask(self.state)

    def observe(self) -> np.ndarray:
        """Return the float32[1545] observation (rules §9)."""
        return observe(self.state)

    @property
    def done(self) -> bool:
        """True once the player died or won."""
        return self.state.done

    def step(self, key, action: int) -> tuple:
        """Apply one action with the step key; return (reward, done, breakdown) in float32.

        An invalid action ends the episode (rules §3, [D7]): reward 0, and the state is unchanged
        apart from `done = True`. Choice: a state that is already done accepts no action (the same).
        """
        key = host_key(key)
        s = self.state
        if s.done or not action_mask(s)[action]:
            s.done = True
            return np.float32(0.0), True, rewards.zero_breakdown()
        p0 = s.player
        before = (p0.score, p0.hp, p0.credits, p0.energy, s.stage)
        d0 = exit_distance(s)
        kills, picked, exit_reached, turn_ends = 0, False, False, False
        quality = (False, 0, 0)
        if action < NUM_DIRECTIONS:
            out = direction_action(s, action)
            kills, picked, exit_reached = out.kills, out.picked, out.exit_reached
            turn_ends = not exit_reached
        elif action == SIPHON_ACTION:
            quality = siphon_quality(s)
            siphon(s)
            turn_ends = True
        else:
            kills = run_program(s, action - PROGRAM_ACTION_OFFSET, key)
            turn_ends = action == WAIT_ACTION
            exit_reached = action == WARP_ACTION and s.player.cell == s.exit
        if exit_reached:
            complete_stage(s, key)
        elif turn_ends:
            enemy_turn(s, key)
        p1 = s.player  # UNDO replaces the player object
        died = p1.hp == 0
        s.done = died or s.won
        facts = rewards.StepFacts(
            action=action, score0=before[0], hp0=before[1], credits0=before[2],
            energy0=before[3], stage0=before[4], d0=d0, d1=exit_distance(s), kills=kills,
            picked=picked, completed=exit_reached, quality=quality, score1=p1.score, hp1=p1.hp,
            credits1=p1.credits, energy1=p1.energy, stage1=s.stage, won=s.won,
            siphon_enemy_adjacent=any(
                e.from_siphon and manhattan((e.row, e.col), p1.cell) == 1 for e in s.enemies
            ),
        )
        comps = rewards.breakdown(facts)
        return rewards.total(comps), s.done, comps
