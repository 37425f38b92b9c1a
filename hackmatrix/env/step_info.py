"""The one step-info contract between the env, the training metrics and the analysis.

The wrapper returns a `StepInfo` from every step; the rollout stacks it to (num_steps, num_envs)
arrays and `hackmatrix.metrics.reduce_update` reduces it as it is. `action_shares` is the one
definition of the action fractions, used by the training metrics `actions/*` and by the summary of
`hackmatrix eval`.
"""

import jax.numpy as jnp
from flax import struct

from hackmatrix.env.constants import (
    NUM_DIRECTIONS,
    PROGRAM_ACTION_OFFSET,
    PROGRAM_NAMES,
    SIPHON_ACTION,
)


@struct.dataclass
class StepInfo:
    """What one wrapper step reports besides obs/state/reward/done (every field a leaf array).

    The stepped state's values are taken before any auto-reset; the `episode_*` statistics are
    those of the episode that ended at this step and are only meaningful where `done`.
    """

    rewards: dict  # {key: float32} for the 15 constants.REWARD_KEYS, summing to `reward`
    reward: jnp.ndarray  # float32: the step's reward
    # The game ended (lost, won, or an invalid action): nothing follows, GAE does not bootstrap.
    terminated: jnp.ndarray  # bool
    # The wrapper cut a running game at max_steps_in_episode: never also terminated; GAE
    # bootstraps from the value of the final observation.
    truncated: jnp.ndarray  # bool
    stage: jnp.ndarray  # int32
    score: jnp.ndarray  # int32
    hp: jnp.ndarray  # int32
    episode_return: jnp.ndarray  # float32
    episode_length: jnp.ndarray  # int32
    episode_final_stage: jnp.ndarray  # int32
    episode_won: jnp.ndarray  # bool

    @property
    def done(self) -> jnp.ndarray:
        """Return whether the episode ended here (terminated or truncated; the env auto-resets)."""
        return self.terminated | self.truncated


def action_shares(counts, total) -> dict:
    """Return the shares of moves, siphons, programs and each program in `total` actions.

    `counts` holds the number of times each of the NUM_ACTIONS actions was taken (a NumPy or a
    JAX array; traceable). Keys: move_frac, siphon_frac, program_frac and program/<NAME>.
    """
    out = {
        "move_frac": counts[:NUM_DIRECTIONS].sum() / total,
        "siphon_frac": counts[SIPHON_ACTION] / total,
        "program_frac": counts[PROGRAM_ACTION_OFFSET:].sum() / total,
    }
    # A program's share is of ALL actions (the 23 sum to program_frac), which stays defined
    # (never 0/0) when no program was played at all.
    for index, name in enumerate(PROGRAM_NAMES):
        out[f"program/{name}"] = counts[PROGRAM_ACTION_OFFSET + index] / total
    return out
