"""Play N whole episodes at once (vmapped, one `lax.while_loop`) and summarise them.

Every episode i starts from `episode_keys(seed, N)[i]`: its reset key and the key of step t are
fixed by the seed alone, so the agent and the random baseline meet the same starting boards and the
same env draws at equal step numbers, and `hackmatrix watch --seed S --episode i` replays episode i
of `hackmatrix eval --seed S`. Episodes run on the bare game (no auto-reset): a finished game stays
finished, so each slot holds exactly one episode; a game still running after `max_steps` steps
counts as truncated (not won, its stage as reached).
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from hackmatrix.analysis.policy import GREEDY, MODE_NAMES, RANDOM, choose_action
from hackmatrix.env import action_mask, reset, step
from hackmatrix.env.constants import (
    NUM_ACTIONS,
    NUM_STAGES,
    PROGRAM_ACTION_OFFSET,
    PROGRAM_NAMES,
    REWARD_KEYS,
)
from hackmatrix.env.step_info import action_shares

# Two-sided 95% normal quantile: the confidence intervals are mean +- Z95 * standard error.
Z95 = 1.959964


@struct.dataclass
class EpisodeStats:
    """Per-episode results of `play_episodes`, each with a leading (episodes,) axis."""

    episode_return: jnp.ndarray  # float32
    length: jnp.ndarray  # int32: actions taken
    final_stage: jnp.ndarray  # int32
    won: jnp.ndarray  # bool
    truncated: jnp.ndarray  # bool: still running after max_steps
    action_counts: jnp.ndarray  # int32[episodes, NUM_ACTIONS]
    reward_totals: jnp.ndarray  # float32[episodes, 15], REWARD_KEYS order


def episode_key(seed: int, index):
    """Return the key of episode `index` of a seed (the same whatever the episode count)."""
    return jax.random.fold_in(jax.random.PRNGKey(seed), index)


def episode_keys(seed: int, episodes: int):
    """Return the (episodes, 2) keys of episodes 0 .. episodes - 1 of a seed."""
    return jax.vmap(lambda index: episode_key(seed, index))(jnp.arange(episodes))


def reset_key(key):
    """Return the key that generates the first board of the episode with key `key`."""
    return jax.random.split(key)[0]


def step_keys(key, t):
    """Return (action key, env key) of step t (0-based) of the episode with key `key`."""
    run_key = jax.random.split(key)[1]
    return jax.random.split(jax.random.fold_in(run_key, t))


def play_episodes(apply_fn, params, keys, mode, max_steps) -> EpisodeStats:
    """Play one episode per key with the policy's `mode` (jittable; mode and max_steps traced)."""
    num = keys.shape[0]
    obs, state = jax.vmap(reset)(jax.vmap(reset_key)(keys))
    zeros = EpisodeStats(
        episode_return=jnp.zeros((num,), jnp.float32), length=jnp.zeros((num,), jnp.int32),
        final_stage=state.stage, won=state.won, truncated=jnp.zeros((num,), bool),
        action_counts=jnp.zeros((num, NUM_ACTIONS), jnp.int32),
        reward_totals=jnp.zeros((num, len(REWARD_KEYS)), jnp.float32))

    def cond(carry):
        t, _, _, alive, _ = carry
        return (t < max_steps) & jnp.any(alive)

    def body(carry):
        t, state, obs, alive, stats = carry
        mask = jax.vmap(action_mask)(state)
        logits, _ = apply_fn(params, obs)
        act_keys, env_keys = jnp.moveaxis(jax.vmap(step_keys, in_axes=(0, None))(keys, t), 1, 0)
        action = jax.vmap(choose_action, in_axes=(0, 0, 0, None))(act_keys, logits, mask, mode)
        new_state, new_obs, reward, done, breakdown = jax.vmap(step)(env_keys, state, action)
        live = alive.astype(jnp.float32)
        parts = jnp.stack([breakdown[k] for k in REWARD_KEYS], axis=-1)
        stats = stats.replace(
            episode_return=stats.episode_return + live * reward,
            length=stats.length + alive,
            action_counts=stats.action_counts
            + alive[:, None] * jax.nn.one_hot(action, NUM_ACTIONS, dtype=jnp.int32),
            reward_totals=stats.reward_totals + live[:, None] * parts,
        )
        # A finished game needs no freezing: the env leaves a done state unchanged when stepped.
        return t + 1, new_state, new_obs, alive & ~done, stats

    _, state, _, alive, stats = jax.lax.while_loop(
        cond, body, (jnp.int32(0), state, obs, jnp.ones((num,), bool), zeros))
    return stats.replace(final_stage=state.stage, won=state.won, truncated=alive)



def _mean_ci(values) -> tuple:
    """Mean and the half-width of its 95% normal confidence interval (None for one value)."""
    values = np.asarray(values, np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return mean, None
    return mean, float(Z95 * values.std(ddof=1) / math.sqrt(values.size))


def summarize(stats: EpisodeStats) -> dict:
    """Return the plain-data summary of a batch of episodes (what `hackmatrix eval` reports).

    Action shares are over all actions of all episodes, by the same `action_shares` as the
    training metrics `actions/*`; reward components are the mean per-episode total of each of
    the 15 components.
    """
    s = jax.tree.map(np.asarray, jax.device_get(stats))
    episodes = int(s.length.size)
    steps = int(s.length.sum())
    per_action = s.action_counts.sum(axis=0)
    shares = action_shares(per_action, max(steps, 1))
    stage_mean, stage_ci = _mean_ci(s.final_stage)
    return_mean, return_ci = _mean_ci(s.episode_return)
    return {
        "episodes": episodes,
        "steps": steps,
        "win_rate": float(s.won.mean()),
        "final_stage_mean": stage_mean,
        "final_stage_ci95": stage_ci,
        "final_stages": {str(k): int((s.final_stage == k).sum())
                         for k in range(1, NUM_STAGES + 1)},
        "return_mean": return_mean,
        "return_ci95": return_ci,
        "length_mean": float(s.length.mean()),
        "truncated_rate": float(s.truncated.mean()),
        "actions": {key: float(shares[key])
                    for key in ("move_frac", "siphon_frac", "program_frac")},
        "programs": {
            name: {"share": float(shares[f"program/{name}"]),
                   "per_episode": float(per_action[PROGRAM_ACTION_OFFSET + i] / episodes)}
            for i, name in enumerate(PROGRAM_NAMES)
        },
        "rewards": {key: float(s.reward_totals[:, j].mean()) for j, key in enumerate(REWARD_KEYS)},
        "per_episode": {
            "return": [float(x) for x in s.episode_return], "length": s.length.tolist(),
            "final_stage": s.final_stage.tolist(), "won": s.won.tolist(),
            "truncated": s.truncated.tolist(),
        },
    }


@functools.lru_cache(maxsize=4)
def make_player(network):
    """Return the jitted `player(params, keys, mode, max_steps) -> EpisodeStats` of a network.

    Cached per network (flax modules compare by their fields), so evaluating several checkpoints
    of one run in a process compiles once per episode count.
    """
    return jax.jit(lambda params, keys, mode, max_steps: play_episodes(
        network.apply, params, keys, mode, max_steps))


def evaluate(policy, episodes: int, seed: int, mode: int = GREEDY, max_steps: int = 5000) -> dict:
    """Play `episodes` games with the policy and with the random baseline on the same seeds.

    Returns {"agent": summary, "random": summary} (see `summarize`); both runs share one
    compilation, since the mode is a traced argument.
    """
    player = make_player(policy.network)
    keys = episode_keys(seed, episodes)
    out = {}
    for name, run_mode in (("agent", mode), ("random", RANDOM)):
        stats = player(policy.params, keys, jnp.int32(run_mode), jnp.int32(max_steps))
        out[name] = summarize(stats)
    out["agent"]["policy"] = MODE_NAMES[mode]
    out["random"]["policy"] = MODE_NAMES[RANDOM]
    return out
