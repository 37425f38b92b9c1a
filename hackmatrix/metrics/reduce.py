"""The jittable reduction of one PPO update to a fixed set of named float32 scalars.

Input contract (built by hackmatrix.core inside the jitted training chunk, one PPO update):

* `info`: the env's `hackmatrix.env.StepInfo` stacked to `(num_steps, num_envs)` arrays, one
  entry per rollout transition (its fields are documented there; `done` is terminated or
  truncated, and the `episode_*` statistics count only where `done`).
* `actions`: `(num_steps, num_envs)` int32 in [0, NUM_ACTIONS).
* `ppo_stats`: a dict of `(update_epochs, num_minibatches)` arrays under bare names: approx_kl,
  clip_frac, entropy, policy_loss, value_loss, total_loss, grad_norm (extra bare keys are reduced
  the same way and published as `train/<key>`).
* `learning_rate`: a scalar (or an array of the rates used by each minibatch, averaged).

Output: a dict whose key set depends only on the static structure of the inputs (never on values),
so that it can be stacked by `lax.scan` and batched by `vmap` over updates or seeds. In particular
the `episode/*` keys are always present here; the host drops them for an update whose
`episode/count` is 0 (see `hackmatrix.metrics.host.drop_empty_episodes`), so that "no episode
finished" is never published as a stand-in 0.
"""

from collections.abc import Mapping

import jax
import jax.numpy as jnp

from hackmatrix.env.constants import NUM_ACTIONS, REWARD_KEYS
from hackmatrix.env.step_info import StepInfo, action_shares
from hackmatrix.metrics.naming import metric_name

F32 = jnp.float32

EPISODE_PREFIX = "episode/"
EPISODE_COUNT = "episode/count"


def _check_inputs(info: StepInfo, actions, ppo_stats: Mapping) -> None:
    """Fail at trace time, naming what is wrong, rather than deep inside the reduction."""
    if not isinstance(info, StepInfo):
        raise TypeError(f"reduce_update: info must be a StepInfo, not {type(info).__name__}")
    shape = tuple(actions.shape)
    leaves = jax.tree_util.tree_leaves_with_path(info)
    wrong = [jax.tree_util.keystr(path) for path, leaf in leaves if tuple(leaf.shape) != shape]
    if len(shape) != 2 or wrong:
        raise ValueError(
            f"reduce_update: actions and every info entry must share one (num_steps, num_envs) "
            f"shape; actions {shape}, mismatching entries {wrong}"
        )
    if not ppo_stats:
        raise ValueError("reduce_update: ppo_stats is empty")


def _reward_metrics(info: StepInfo) -> dict:
    """Means over all transitions of the 15 components and of their sum."""
    out = {f"reward/{key}": jnp.mean(info.rewards[key].astype(F32)) for key in REWARD_KEYS}
    out["train/mean_reward"] = jnp.mean(info.reward.astype(F32))
    return out


def _action_metrics(actions) -> dict:
    """Fractions of moves, siphons, programs, and of each program, over all transitions."""
    counts = jnp.bincount(actions.reshape(-1), length=NUM_ACTIONS).astype(F32)
    shares = action_shares(counts, F32(actions.size))
    return {f"actions/{key}": value for key, value in shares.items()}


def _episode_metrics(info: StepInfo) -> dict:
    """Means over the episodes that finished in this rollout (garbage-free where none did)."""
    done = info.done
    count = jnp.sum(done).astype(F32)
    denominator = jnp.maximum(count, F32(1))

    def finished_mean(values):
        return jnp.sum(jnp.where(done, values.astype(F32), F32(0))) / denominator

    return {
        "episode/return_mean": finished_mean(info.episode_return),
        "episode/length_mean": finished_mean(info.episode_length),
        "episode/final_stage_mean": finished_mean(info.episode_final_stage),
        "episode/win_rate": finished_mean(info.episode_won),
        "episode/truncated_rate": finished_mean(info.truncated),
        EPISODE_COUNT: count,
    }


def reduce_update(info: StepInfo, actions, ppo_stats: Mapping, learning_rate) -> dict:
    """Reduce one update's rollout info, actions and PPO stats to named float32 scalars (jittable)."""
    _check_inputs(info, actions, ppo_stats)
    stage = info.stage
    out = _reward_metrics(info)
    out.update(_action_metrics(actions))
    out["stats/highest_stage"] = jnp.max(stage).astype(F32)
    out["stats/mean_stage"] = jnp.mean(stage.astype(F32))
    out.update(_episode_metrics(info))
    for key, value in ppo_stats.items():
        name = metric_name(key)
        if name in out:
            raise ValueError(f"reduce_update: ppo_stats key {key!r} collides with {name!r}")
        out[name] = jnp.mean(jnp.asarray(value).astype(F32))
    out["train/learning_rate"] = jnp.mean(jnp.asarray(learning_rate).astype(F32))
    return out
