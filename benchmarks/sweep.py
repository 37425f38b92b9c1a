"""Sweep throughput: K points x S seeds vmapped in one program vs K x S separate runs.

Both sides train the real game with the same config (default: 64 envs x 128 steps) for the same
updates per run, through the trainer's own compiled functions (`hackmatrix.core.parallel`); the
points form an ent_coef x learning_rate grid. Each separate run compiles its own program (as
K x S `hackmatrix train` processes would, without a persistent cache); the sweep compiles once.
"Compile" counts the compile of the chunk and the first init (its jit compile included), so
"train" is the chunk of `--updates` updates alone. Reported: env steps/s of all runs together,
with and without the compile times, and the ratio; one JSON line is appended to
benchmarks/results/sweep.jsonl.

    python benchmarks/sweep.py [--points 4] [--seeds 2] [--num-envs 64] [--num-steps 128]
"""

import argparse
import json
import subprocess
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from hackmatrix.core.autoscale import auto_scale_for_batch_size
from hackmatrix.core.config import batch_size, load_config
from hackmatrix.core.parallel import compile_trainer, make_mesh, place_hparams, stack_seed_keys
from hackmatrix.core.population import stacked_hparams
from hackmatrix.core.train import make_train
from hackmatrix.sweep.points import point_config
from hackmatrix.sweep.run import batch_population

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "sweep.jsonl"


def prepared(trainer, mesh, population):
    """Compile the population's program and init its runner; return (compiled, runner, s)."""
    start = time.perf_counter()
    compiled = compile_trainer(trainer, mesh, len(population.members))
    runner = jax.block_until_ready(compiled.init(stack_seed_keys(population.seeds)))
    return compiled, runner, time.perf_counter() - start


def timed_training(compiled, runner, population, updates):
    """Return seconds of `updates` updates (one chunk) of a compiled, initialised population."""
    hparams = place_hparams(compiled, stacked_hparams(population))
    start = time.perf_counter()
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
    parser.add_argument("--results", default=str(RESULTS_FILE), help="JSONL file to append to")
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
            alone = batch_population({index: config_i}, [seed], "b", "b")
            # A fresh trainer per run: each separate run compiles its own program.
            compiled, runner, seconds = prepared(make_train(config_i), mesh, alone)
            compile_s += seconds
            run_s += timed_training(compiled, runner, alone, args.updates)
        print(f"  separate runs of point {index}: done ({compile_s:.1f}s compile, "
              f"{run_s:.1f}s training so far)", flush=True)
    together, runner, sweep_compile_s = prepared(make_train(config), mesh, sweep)
    sweep_run_s = timed_training(together, runner, sweep, args.updates)

    rows = [("separate runs", compile_s, run_s), ("vmapped sweep", sweep_compile_s, sweep_run_s)]
    print(f"\n{'':16s}{'compile s':>11s}{'train s':>10s}{'sps (train)':>14s}"
          f"{'sps (+compile)':>16s}")
    for name, c, r in rows:
        print(f"{name:16s}{c:11.1f}{r:10.1f}{steps / r:14,.0f}{steps / (c + r):16,.0f}")
    ratio_train = run_s / sweep_run_s
    ratio_total = (compile_s + run_s) / (sweep_compile_s + sweep_run_s)
    print(f"\nratio sweep / separate: {ratio_train:.2f}x (training only), "
          f"{ratio_total:.2f}x (compile included)")
    record = {"date": time.strftime("%Y-%m-%d %H:%M"), "commit": _commit(),
              "backend": f"{jax.default_backend()} x{mesh.devices.size}",
              "points": args.points, "seeds": args.seeds, "updates": args.updates,
              "num_envs": args.num_envs, "num_steps": args.num_steps, "env_steps": steps,
              "separate": {"compile_s": round(compile_s, 2), "train_s": round(run_s, 2)},
              "sweep": {"compile_s": round(sweep_compile_s, 2), "train_s": round(sweep_run_s, 2)},
              "ratio_train": round(ratio_train, 3), "ratio_with_compile": round(ratio_total, 3)}
    with open(args.results, "a") as handle:
        handle.write(json.dumps(record) + "\n")


def _commit() -> str | None:
    """The short commit of the measured code (None outside a git checkout)."""
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, cwd=Path(__file__).parent, check=False)
    return done.stdout.strip() or None


if __name__ == "__main__":
    main()
