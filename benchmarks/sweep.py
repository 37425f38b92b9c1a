"""Sweep throughput: K points x S seeds vmapped in one program vs K x S separate runs.

Both sides train the real game with the same config (default: 64 envs x 128 steps) for the same
updates per run, through the trainer's own compiled functions (`hackmatrix.core.parallel`); the
points form an ent_coef x learning_rate grid. Each separate run compiles its own program (as
K x S `hackmatrix train` processes would, without a persistent cache); the sweep compiles once.
Reported: env steps/s of all runs together, with and without the compile times, and the ratio.

    python benchmarks/sweep.py [--points 4] [--seeds 2] [--num-envs 64] [--num-steps 128]
"""

import argparse
import time

import jax
import jax.numpy as jnp

from hackmatrix.core.autoscale import auto_scale_for_batch_size
from hackmatrix.core.config import batch_size, load_config
from hackmatrix.core.parallel import compile_trainer, make_mesh, place_hparams, stack_seed_keys
from hackmatrix.core.population import stacked_hparams
from hackmatrix.core.train import make_train
from hackmatrix.sweep.points import point_config
from hackmatrix.sweep.run import batch_population


def timed_training(compiled, population, updates):
    """Return seconds of init + `updates` updates (one chunk) of a compiled population."""
    start = time.perf_counter()
    runner = compiled.init(stack_seed_keys(population.seeds))
    hparams = place_hparams(compiled, stacked_hparams(population))
    runner, metrics = compiled.chunk(runner, jnp.int32(updates), hparams)
    jax.block_until_ready((runner, metrics))
    return time.perf_counter() - start


def main():
    """Measure and print both sides and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--num-steps", type=int, default=128)
    parser.add_argument("--updates", type=int, default=4, help="updates per run (one chunk)")
    args = parser.parse_args()
    config = auto_scale_for_batch_size(load_config(None, [
        f"env.num_envs={args.num_envs}", f"ppo.num_steps={args.num_steps}",
        f"run.updates_per_chunk={args.updates}",
        f"ppo.total_timesteps={args.num_envs * args.num_steps * args.updates}"]))
    mesh = make_mesh()
    configs = {i: point_config(config, {"ppo.ent_coef": 0.003 * 3 ** (i % 4),
                                        "ppo.learning_rate": 2.5e-4 * 3 ** (i // 4)})
               for i in range(args.points)}
    seeds = list(range(args.seeds))
    sweep = batch_population(configs, seeds, "bench", "bench")
    runs = len(sweep.members)
    steps = batch_size(config) * args.updates * runs
    print(f"{jax.default_backend()} x{mesh.devices.size}: {args.points} points x {args.seeds} "
          f"seeds x {args.updates} updates x {args.num_envs} envs x {args.num_steps} steps = "
          f"{steps:,} env steps", flush=True)

    compile_s, run_s = 0.0, 0.0
    for index, config_i in configs.items():
        for seed in seeds:
            start = time.perf_counter()
            # A fresh trainer per run: each separate run compiles its own program.
            compiled = compile_trainer(make_train(config_i), mesh, 1)
            compile_s += time.perf_counter() - start
            run_s += timed_training(compiled, batch_population({index: config_i}, [seed], "b",
                                                               "b"), args.updates)
        print(f"  separate runs of point {index}: done ({compile_s:.1f}s compile, "
              f"{run_s:.1f}s training so far)", flush=True)
    start = time.perf_counter()
    together = compile_trainer(make_train(config), mesh, runs)
    sweep_compile_s = time.perf_counter() - start
    sweep_run_s = timed_training(together, sweep, args.updates)

    rows = [("separate runs", compile_s, run_s), ("vmapped sweep", sweep_compile_s, sweep_run_s)]
    print(f"\n{'':16s}{'compile s':>11s}{'train s':>10s}{'sps (train)':>14s}"
          f"{'sps (+compile)':>16s}")
    for name, c, r in rows:
        print(f"{name:16s}{c:11.1f}{r:10.1f}{steps / r:14,.0f}{steps / (c + r):16,.0f}")
    print(f"\nratio sweep / separate: {run_s / sweep_run_s:.2f}x (training only), "
          f"{(compile_s + run_s) / (sweep_compile_s + sweep_run_s):.2f}x (compile included)")


if __name__ == "__main__":
    main()
