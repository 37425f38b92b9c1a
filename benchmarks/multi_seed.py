"""Multi-seed throughput: N seeds vmapped in one program vs N separate one-seed runs.

Both sides train the real game with the same config (default: 64 envs x 128 steps, the PPO shape
`hackmatrix train` would use) for the same number of updates per seed, through the trainer's own
compiled functions (`hackmatrix.core.parallel`). The separate runs compile once each (as N
separate `hackmatrix train` processes would, without a persistent cache); the group compiles
once. Reported: env steps/s of all seeds together, with and without the compile times, and the
ratio group / separate.

    python benchmarks/multi_seed.py [--seeds 4] [--num-envs 64] [--num-steps 128] [--updates 4]
"""

import argparse
import time

import jax
import jax.numpy as jnp

from hackmatrix.core.autoscale import auto_scale_for_batch_size
from hackmatrix.core.config import batch_size, load_config
from hackmatrix.core.parallel import (
    compile_trainer,
    default_hparams,
    make_mesh,
    place_hparams,
    stack_seed_keys,
)
from hackmatrix.core.train import make_train


def timed_training(compiled, key, updates):
    """Return seconds of init + `updates` updates (one chunk) of a compiled trainer."""
    start = time.perf_counter()
    runner = compiled.init(key)
    hparams = place_hparams(compiled, default_hparams(compiled.trainer, len(key)))
    runner, metrics = compiled.chunk(runner, jnp.int32(updates), hparams)
    jax.block_until_ready((runner, metrics))
    return time.perf_counter() - start


def main():
    """Measure and print both sides and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--num-steps", type=int, default=128)
    parser.add_argument("--updates", type=int, default=4, help="updates per seed (one chunk)")
    args = parser.parse_args()
    config = auto_scale_for_batch_size(load_config(None, [
        f"env.num_envs={args.num_envs}", f"ppo.num_steps={args.num_steps}",
        f"run.updates_per_chunk={args.updates}",
        f"ppo.total_timesteps={args.num_envs * args.num_steps * args.updates}"]))
    mesh = make_mesh()
    seeds = list(range(args.seeds))
    steps = batch_size(config) * args.updates * len(seeds)
    print(f"{jax.default_backend()} x{mesh.devices.size}: {len(seeds)} seeds x {args.updates} "
          f"updates x {args.num_envs} envs x {args.num_steps} steps = {steps:,} env steps",
          flush=True)

    compile_s, run_s = 0.0, 0.0
    for seed in seeds:
        start = time.perf_counter()
        # A fresh trainer per seed: each separate run compiles its own program.
        compiled = compile_trainer(make_train(config), mesh)
        compile_s += time.perf_counter() - start
        run_s += timed_training(compiled, stack_seed_keys([seed]), args.updates)
        print(f"  separate run, seed {seed}: done ({compile_s:.1f}s compile, {run_s:.1f}s "
              f"training so far)", flush=True)
    start = time.perf_counter()
    group = compile_trainer(make_train(config), mesh, len(seeds))
    group_compile_s = time.perf_counter() - start
    group_run_s = timed_training(group, stack_seed_keys(seeds), args.updates)

    rows = [("separate runs", compile_s, run_s), ("vmapped group", group_compile_s, group_run_s)]
    print(f"\n{'':16s}{'compile s':>11s}{'train s':>10s}{'sps (train)':>14s}"
          f"{'sps (+compile)':>16s}")
    for name, c, r in rows:
        print(f"{name:16s}{c:11.1f}{r:10.1f}{steps / r:14,.0f}{steps / (c + r):16,.0f}")
    print(f"\nratio group / separate: {run_s / group_run_s:.2f}x (training only), "
          f"{(compile_s + run_s) / (group_compile_s + group_run_s):.2f}x (compile included)")


if __name__ == "__main__":
    main()
