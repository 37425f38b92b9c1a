"""The public game API: reset and the one-step pipeline of rules §4.1.

Stepping a state that is already done (dead, won, or ended by an invalid action) is treated like
an invalid action: the state is returned unchanged with done=True, reward 0 and all 15 reward
components 0. The wrapper auto-resets, so a trainer never does this.
"""

import jax
import jax.numpy as jnp
import numpy as np

from hackmatrix.env.actions import direction_action
from hackmatrix.env.bfs import exit_distance
from hackmatrix.env.constants import (
    MAX_HP,
    NUM_ACTIONS,
    NUM_DIRECTIONS,
    NUM_STAGES,
    PROGRAM_ACTION_OFFSET,
    SIPHON_ACTION,
    WAIT_ACTION,
    WARP_ACTION,
)
from hackmatrix.env.enemy_turn import enemy_turn
from hackmatrix.env.generation import generate_stage, new_game
from hackmatrix.env.mask import action_mask
from hackmatrix.env.observation import observe
from hackmatrix.env.params import EnvParams
from hackmatrix.env.programs import apply_program
from hackmatrix.env.rewards import StepEvents, calculate_reward
from hackmatrix.env.siphon import apply_siphon, siphon_quality
from hackmatrix.env.sparse_apply import apply_where
from hackmatrix.env.state import EnvState

I32 = jnp.int32
# NumPy scalars: importing the env must not start the XLA backend (see rewards.py).
_FALSE = np.bool_(False)
_ZERO = np.int32(0)
DEFAULT_PARAMS = EnvParams()
# Lanes per chunk of the siphon/program branches: a policy that mostly plays programs still runs
# few loop trips, one that never does pays one chunk per step at most.
BRANCH_CHUNK = 32


def reset(key, params: EnvParams = DEFAULT_PARAMS):
    """Start a new game (rules §2.5); return (obs float32[1545], state)."""
    del params
    state = new_game(key)
    return observe(state), state


def _outcome(state, kills, picked, exit_reached, turn_ends, found=_FALSE, mc=_ZERO, me=_ZERO):
    return state, (jnp.asarray(kills, I32), jnp.asarray(picked, bool),
                   jnp.asarray(exit_reached, bool), jnp.asarray(turn_ends, bool),
                   jnp.asarray(found, bool), jnp.asarray(mc, I32), jnp.asarray(me, I32))


def _direction_branch(key, state, action):
    del key
    state, kills, picked, exit_reached = direction_action(
        state, jnp.clip(action, 0, NUM_DIRECTIONS - 1))
    return _outcome(state, kills, picked, exit_reached, ~exit_reached)


def _siphon_branch(key, state, action):
    del key, action
    found, missed_credits, missed_energy = siphon_quality(state)
    state = apply_siphon(state)
    return _outcome(state, 0, False, False, True, found, missed_credits, missed_energy)


def _program_branch(key, state, action):
    state, kills = apply_program(key, state, jnp.maximum(action - PROGRAM_ACTION_OFFSET, 0))
    on_exit = (state.player.row == state.exit_row) & (state.player.col == state.exit_col)
    return _outcome(state, kills, False, (action == WARP_ACTION) & on_exit,
                    action == WAIT_ACTION)


def _complete_stage(state: EnvState, completing) -> EnvState:
    """CompleteStage of rules §4.4 up to the generation: heal 1, then next stage or victory."""
    last = state.stage >= NUM_STAGES
    stage = jnp.where(completing & ~last, state.stage + 1, state.stage)
    return state.replace(
        player=state.player.replace(hp=jnp.where(
            completing, jnp.minimum(MAX_HP, state.player.hp + 1), state.player.hp)),
        stage=stage,
        sched_interval=jnp.where(completing & ~last, 13 - stage, state.sched_interval),
        won=state.won | (completing & last),
    )


def _dispatch(key, state: EnvState, action):
    """Run the action of rules §4.1 (as if valid); return (state, event tuple).

    Under vmap a `lax.switch` computes every branch for every environment and selects between
    whole states, so only the direction branch (nearly every action in practice) runs for the
    whole batch; siphons and programs run only for the environments that chose them.
    """
    kind = jnp.where(action < NUM_DIRECTIONS, 0, jnp.where(action == SIPHON_ACTION, 1, 2))
    out = _direction_branch(key, state, action)
    out = apply_where(kind == 1, _siphon_branch, (key, state, action), out, chunk=BRANCH_CHUNK)
    return apply_where(kind == 2, _program_branch, (key, state, action), out, chunk=BRANCH_CHUNK)


def step_before_generation(key, state: EnvState, action, mask=None):
    """Apply one action up to (not including) the generation of a next stage.

    Returns (after, events, new_stage): `after` has already completed the stage (heal, stage + 1)
    but still shows the old board where `new_stage`; generate_stage(key, after) finishes it. The
    rewards never look at the new board (rules §8: Δ = d0 on completion), so they can be computed
    from `after` before the generation, which lets the wrapper run one generation per step for
    both stage completions and auto-resets. `mask` may pass action_mask(state) when the caller
    already has it.
    """
    action = jnp.asarray(action, I32)
    in_range = (action >= 0) & (action < NUM_ACTIONS)
    action = jnp.clip(action, 0, NUM_ACTIONS - 1)
    mask = action_mask(state) if mask is None else mask
    valid = in_range & mask[action] & ~state.done
    d0 = exit_distance(state)
    after, (kills, picked, exit_reached, turn_ends, found, mc, me) = _dispatch(key, state, action)
    after = _complete_stage(after, exit_reached)
    after = enemy_turn(key, after, turn_ends & ~exit_reached)
    after = after.replace(done=(after.player.hp == 0) | after.won)
    # [D7] invalid action (or an already-done state): unchanged but done; events.valid = False
    # zeroes every reward component.
    after = jax.tree.map(lambda a, b: jnp.where(valid, a, b), after,
                         state.replace(done=jnp.bool_(True)))
    events = StepEvents(
        action=action, d0=jnp.asarray(d0, I32), kills=kills, picked=picked,
        completed=exit_reached, won=after.won & ~state.won, siphon_found=found,
        missed_credits=mc, missed_energy=me, valid=valid,
    )
    new_stage = valid & exit_reached & (after.stage > state.stage)
    return after, events, new_stage


def step(key, state: EnvState, action, params: EnvParams = DEFAULT_PARAMS):
    """Apply one action; return (state, obs float32[1545], reward float32, done bool, breakdown).

    `breakdown` maps each of the 15 constants.REWARD_KEYS to a float32 scalar summing to `reward`.
    """
    del params
    after, events, new_stage = step_before_generation(key, state, action)
    reward, breakdown = calculate_reward(state, after, events)
    # Generation is costly: apply_where runs it only for the environments that need it.
    after = apply_where(new_stage, generate_stage, (key, after), after)
    return after, observe(after), reward, after.done, breakdown
