"""Learning check: train from a fixed seed for a fixed budget, then compare with random play.

Trains with `hackmatrix.core.loop.train` (config.yaml's defaults unless overridden), then plays
the first episode of each of --eval-envs games (truncated at --eval-max-steps) with the trained
policy (sampling from the masked policy) and with a uniformly random valid-action policy, and
reports mean episode return, win rate, mean final stage, mean length and action fractions.

    python benchmarks/learning.py [--total-timesteps 5000000] [--seed 0] [key=value ...]
"""

import argparse
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from hackmatrix.core import distribution
from hackmatrix.core.config import load_config
from hackmatrix.core.loop import train
from hackmatrix.core.networks import make_network
from hackmatrix.env import EnvParams, HackMatrixEnv
from hackmatrix.env.constants import NUM_ACTIONS, NUM_DIRECTIONS, SIPHON_ACTION

ROOT = Path(__file__).resolve().parents[1]


def evaluate(logits_fn, num_envs, max_steps, seed):
    """Play the first episode of every game; return per-game stats and action counts."""
    env, params = HackMatrixEnv(), EnvParams(max_steps_in_episode=max_steps)
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    mask_of = jax.vmap(env.action_mask)

    def one(carry, key):
        state, obs, finished, stats, counts = carry
        k_act, k_env = jax.random.split(key)
        mask = mask_of(state)
        action = distribution.sample(k_act, logits_fn(obs), mask)
        obs, state, _, done, info = step(jax.random.split(k_env, num_envs), state, action, params)
        first = done & ~finished
        new = jnp.stack([info["episode_return"], info["episode_won"].astype(jnp.float32),
                         info["episode_final_stage"].astype(jnp.float32),
                         info["episode_length"].astype(jnp.float32)], axis=1)
        stats = jnp.where(first[:, None], new, stats)
        live = ~finished
        counts = counts + jnp.zeros(NUM_ACTIONS).at[action].add(live.astype(jnp.float32))
        return (state, obs, finished | done, stats, counts), None

    @jax.jit
    def run(key):
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(
            jax.random.split(jax.random.fold_in(key, 1), num_envs), params)
        init = (state, obs, jnp.zeros(num_envs, bool), jnp.zeros((num_envs, 4)),
                jnp.zeros(NUM_ACTIONS))
        (_, _, finished, stats, counts), _ = jax.lax.scan(
            one, init, jax.random.split(key, max_steps))
        return finished, stats, counts

    finished, stats, counts = jax.device_get(run(jax.random.PRNGKey(seed)))
    return np.asarray(finished), np.asarray(stats), np.asarray(counts)


def summarize(name, finished, stats, counts):
    """One line of the comparison table."""
    total = counts.sum()
    moves = counts[:NUM_DIRECTIONS].sum() / total
    siphon = counts[SIPHON_ACTION] / total
    programs = counts[NUM_DIRECTIONS + 1:].sum() / total
    return (f"{name:<8} games {finished.sum():>4}/{finished.size:<4} return "
            f"{stats[:, 0].mean():>9.2f}  win rate {stats[:, 1].mean():6.1%}  final stage "
            f"{stats[:, 2].mean():5.2f}  length {stats[:, 3].mean():7.1f}  actions: move "
            f"{moves:5.1%} siphon {siphon:5.1%} program {programs:5.1%}")


def main():
    """Train, evaluate, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--total-timesteps", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-envs", type=int, default=256)
    parser.add_argument("--eval-max-steps", type=int, default=1000)
    parser.add_argument("--runs-dir", default=None, help="default: a temporary directory")
    parser.add_argument("overrides", nargs="*", help="more config overrides (key=value)")
    args = parser.parse_args()
    runs_dir = args.runs_dir or tempfile.mkdtemp(prefix="hackmatrix-learning-")
    config = load_config(ROOT / "config.yaml", [
        f"ppo.total_timesteps={args.total_timesteps}", f"run.seed={args.seed}",
        f"run.runs_dir={runs_dir}", "run.name=learning", "sinks=[jsonl, console]",
        *args.overrides])
    start = time.perf_counter()
    result = train(config)
    print(f"trained {result.update} updates in {time.perf_counter() - start:.0f}s "
          f"({result.run_dir})")
    network = make_network(config.network)
    params = result.params
    trained = evaluate(lambda obs: network.apply(params, obs)[0], args.eval_envs,
                       args.eval_max_steps, args.seed + 1000)
    random = evaluate(lambda obs: jnp.zeros(obs.shape[:-1] + (NUM_ACTIONS,)), args.eval_envs,
                      args.eval_max_steps, args.seed + 1000)
    print(f"first episode of {args.eval_envs} games each (truncated at {args.eval_max_steps} "
          f"steps), seed {args.seed}, {args.total_timesteps:,} training steps:")
    print(summarize("trained", *trained))
    print(summarize("random", *random))


if __name__ == "__main__":
    main()
