"""Metrics overhead per PPO update: the jitted reduction plus the host publish to all five sinks,
against no metrics at all, at 1024 envs x 128 steps (a benchmark, never asserted in tests).

    python benchmarks/metrics_overhead.py [--num-envs 1024] [--num-steps 128] [--updates 8]
                                          [--no-env]

Measured, per update:
  reduce       jit(reduce_update) on a synthetic, device-resident info pytree (median call)
  transfer     jax.device_get of the reduced scalars (one transfer)
  publish      MetricsPipeline.publish on the training thread (naming, guards, health, enqueue)
  sinks        background time until console, jsonl, tensorboard, mlflow (sqlite) and wandb
               (offline) have taken and flushed a point (they run off the training thread)
and, with the real env (unless --no-env), one vmapped HackMatrixEnv rollout of num_envs x
num_steps with and without the metrics, alternating update by update: the rollout alone (metrics
off: XLA drops the unused info), the same rollout fused with reduce_update + device_get, and that
plus publish to all five sinks.
The rollout stands in for a whole PPO update, which also runs the network; the true relative
overhead is therefore lower than the one printed.
"""

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from hackmatrix.env.constants import NUM_ACTIONS, REWARD_KEYS
from hackmatrix.env.step_info import StepInfo
from hackmatrix.metrics import MetricsPipeline, reduce_update
from hackmatrix.sinks import RunInfo, create_sinks

PPO_KEYS = ("approx_kl", "clip_frac", "entropy", "policy_loss", "value_loss", "total_loss",
            "grad_norm")


def synthetic_info(key, num_steps: int, num_envs: int):
    """A random StepInfo, actions and PPO stats of the documented shapes, on device."""
    keys = iter(jax.random.split(key, len(REWARD_KEYS) + 8))
    shape = (num_steps, num_envs)
    rewards = {k: 0.01 * jax.random.normal(next(keys), shape) for k in REWARD_KEYS}
    done = jax.random.uniform(next(keys), shape) < 0.01
    truncated = done & (jax.random.uniform(next(keys), shape) < 0.1)
    info = StepInfo(
        rewards=rewards, reward=sum(rewards.values()), terminated=done & ~truncated,
        truncated=truncated, stage=jax.random.randint(next(keys), shape, 1, 9),
        score=jnp.zeros(shape, jnp.int32),
        hp=jnp.full(shape, 3, jnp.int32), episode_return=jax.random.normal(next(keys), shape),
        episode_length=jax.random.randint(next(keys), shape, 1, 500),
        episode_final_stage=jax.random.randint(next(keys), shape, 1, 9),
        episode_won=jax.random.uniform(next(keys), shape) < 0.05,
    )
    actions = jax.random.randint(next(keys), shape, 0, NUM_ACTIONS)
    ppo = {k: jnp.full((4, 4), 0.01) for k in PPO_KEYS}
    return info, actions, ppo


def median_seconds(fn, repeats: int) -> float:
    """Median wall time of fn() over `repeats` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def open_pipeline(directory: Path, total_updates: int) -> MetricsPipeline:
    """All five built-in sinks in `directory`, MLflow on a sqlite store there."""
    specs = ["console", "jsonl", "tensorboard", "wandb",
             {"type": "mlflow", "tracking_uri": f"sqlite:///{directory}/mlflow.db",
              "artifact_location": str(directory / "mlflow-artifacts")}]
    info = RunInfo(name="bench", run_id=f"bench-{directory.name}", directory=directory / "run",
                   config={"env.num_envs": 1024, "ppo.num_steps": 128},
                   total_updates=total_updates)
    return MetricsPipeline(create_sinks(specs, info), report=lambda message: None)


def host_row(reduced, step: int, batch: int, seconds: float) -> dict:
    """The trainer's row for one update: the reduced scalars plus the perf keys it measures."""
    row = jax.device_get(reduced)
    row["perf/env_steps"] = float(step * batch)
    row["perf/sps"] = batch / seconds
    row["perf/update_seconds"] = seconds
    return row


def measure_parts(directory: Path, num_steps: int, num_envs: int, updates: int) -> dict:
    """Per-update seconds of reduce, transfer, publish and the sinks' background work."""
    info, actions, ppo = synthetic_info(jax.random.key(0), num_steps, num_envs)
    reduce = jax.jit(reduce_update)
    reduced = reduce(info, actions, ppo, 2.5e-4)
    jax.block_until_ready(reduced)
    parts = {
        "reduce": median_seconds(
            lambda: jax.block_until_ready(reduce(info, actions, ppo, 2.5e-4)), 20),
        "transfer": median_seconds(lambda: jax.device_get(reduced), 20),
    }
    pipeline = open_pipeline(directory / "parts", updates)
    rows = [host_row(reduced, step, num_steps * num_envs, 1.0) for step in range(1, updates + 1)]
    publish_times = []
    start = time.perf_counter()
    for step, row in enumerate(rows, start=1):
        begin = time.perf_counter()
        point = pipeline.publish(step, row)
        publish_times.append(time.perf_counter() - begin)
    pipeline.flush()
    parts["sinks"] = (time.perf_counter() - start) / updates
    parts["publish"] = statistics.median(publish_times)
    pipeline.close()
    parts["num_metrics"] = len(point)
    return parts


def make_rollouts(num_envs: int, num_steps: int):
    """(states, plain, with_metrics): the env rollout without and with the fused reduction."""
    from hackmatrix.env import HackMatrixEnv

    env = HackMatrixEnv()
    params = env.default_params
    v_step = jax.vmap(env.step_with_final, in_axes=(0, 0, 0, None))
    v_mask = jax.vmap(env.action_mask)

    def one_step(states, key):
        k_act, k_step = jax.random.split(key)
        logits = jnp.where(v_mask(states), 0.0, -jnp.inf)
        actions = jax.random.categorical(k_act, logits).astype(jnp.int32)
        _, states, _, _, info, _ = v_step(jax.random.split(k_step, num_envs), states, actions,
                                          params)
        return states, (info, actions)

    def scan(key, states):
        return jax.lax.scan(one_step, states, jax.random.split(key, num_steps))

    @jax.jit
    def plain(key, states):
        states, (info, _) = scan(key, states)
        return states, info.reward.sum()

    @jax.jit
    def with_metrics(key, states, ppo):
        states, (info, actions) = scan(key, states)
        return states, reduce_update(info, actions, ppo, 2.5e-4)

    _, states = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.key(0), num_envs))
    return states, plain, with_metrics


def measure_env(directory: Path, num_envs: int, num_steps: int, updates: int) -> dict:
    """Seconds per update of the env rollout alone and with metrics published to five sinks.

    Three variants alternate update by update, so that drifts in machine load hit all alike:
    "off" (rollout only), "fused" (rollout + reduce_update in the same jit + device_get, no sinks)
    and "on" (fused + publish to all five sinks). The medians are reported.
    """
    states, plain, with_metrics = make_rollouts(num_envs, num_steps)
    ppo = {k: jnp.full((4, 4), 0.01) for k in PPO_KEYS}
    start = time.perf_counter()
    jax.block_until_ready(plain(jax.random.key(1), states))
    jax.block_until_ready(with_metrics(jax.random.key(1), states, ppo))
    compile_s = time.perf_counter() - start
    say(f"  compiled both rollouts in {compile_s:.1f} s")

    pipeline = open_pipeline(directory / "env", updates)
    times = {"off": [], "fused": [], "on": []}
    carried = dict.fromkeys(times, states)
    for u in range(updates):
        key = jax.random.key(10 + u)
        begin = time.perf_counter()
        carried["off"], total = plain(key, carried["off"])
        jax.block_until_ready(total)
        times["off"].append(time.perf_counter() - begin)
        begin = time.perf_counter()
        carried["fused"], reduced = with_metrics(key, carried["fused"], ppo)
        jax.device_get(reduced)
        times["fused"].append(time.perf_counter() - begin)
        begin = time.perf_counter()
        carried["on"], reduced = with_metrics(key, carried["on"], ppo)
        row = host_row(reduced, u + 1, num_envs * num_steps, time.perf_counter() - begin)
        pipeline.publish(u + 1, row)
        times["on"].append(time.perf_counter() - begin)
        say(f"  update {u + 1}: " + ", ".join(
            f"{name} {1e3 * values[-1]:.1f} ms" for name, values in times.items()))
    begin = time.perf_counter()
    pipeline.flush()
    drain = time.perf_counter() - begin
    pipeline.close()
    result = {name: statistics.median(values) for name, values in times.items()}
    result.update(compile=compile_s, on_drained=result["on"] + drain / updates)
    return result


def say(text: str) -> None:
    """Print to the real stdout (sys.stdout is redirected while the console sink runs)."""
    print(text, file=sys.__stdout__, flush=True)


def report_parts(parts: dict) -> float:
    """Print the per-part figures; return the training-thread milliseconds per update."""
    ms = {k: 1e3 * v for k, v in parts.items() if k != "num_metrics"}
    training_thread = ms["reduce"] + ms["transfer"] + ms["publish"]
    say(f"scalars per update: {parts['num_metrics']}")
    say(f"reduce   {ms['reduce']:8.3f} ms  (jitted, synthetic info)")
    say(f"transfer {ms['transfer']:8.3f} ms  (device_get of the scalars)")
    say(f"publish  {ms['publish']:8.3f} ms  (training thread)")
    say(f"sum      {training_thread:8.3f} ms  per update on the training thread")
    say(f"sinks    {ms['sinks']:8.3f} ms  per update in the background (all five, drained)")
    return training_thread


def report_env(env: dict, training_thread_ms: float) -> None:
    """Print the rollout comparison."""
    off_ms = 1e3 * env["off"]
    say(f"env rollout compile (both variants) {env['compile']:.1f} s")
    say(f"rollout, metrics off          {off_ms:10.1f} ms/update")
    say(f"rollout + reduce, no sinks    {1e3 * env['fused']:10.1f} ms/update "
        f"({100 * (env['fused'] / env['off'] - 1):+.2f}%)")
    say(f"rollout + metrics, 5 sinks    {1e3 * env['on']:10.1f} ms/update "
        f"({100 * (env['on'] / env['off'] - 1):+.2f}%)")
    say(f"  ... including the drain     {1e3 * env['on_drained']:10.1f} ms/update "
        f"({100 * (env['on_drained'] / env['off'] - 1):+.2f}%)")
    say(f"training-thread cost / rollout: {100 * training_thread_ms / off_ms:.2f}%")


def main(argv=None):
    """Run the measurements and print the per-update figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--num-steps", type=int, default=128)
    parser.add_argument("--updates", type=int, default=8, help="timed updates per variant")
    parser.add_argument("--no-env", action="store_true", help="skip the env rollout comparison")
    args = parser.parse_args(argv)
    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ.setdefault("WANDB_SILENT", "true")
    say(f"backend={jax.default_backend()} devices={jax.devices()} "
        f"batch={args.num_envs} envs x {args.num_steps} steps")
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as devnull, \
            contextlib.redirect_stdout(devnull):
        parts = measure_parts(Path(tmp), args.num_steps, args.num_envs, max(args.updates, 20))
        training_thread_ms = report_parts(parts)
        if not args.no_env:
            say("compiling and timing the env rollouts...")
            env = measure_env(Path(tmp), args.num_envs, args.num_steps, args.updates)
            report_env(env, training_thread_ms)


if __name__ == "__main__":
    sys.exit(main())
