"""Environment throughput: compile time and steady-state steps/s of the vmapped, auto-resetting
HackMatrixEnv with random valid actions inside `lax.scan`.

    python benchmarks/env_throughput.py [--num-envs 1 64 256 1024 2048] [--steps 128] [--repeats 3]
"""

import argparse
import time

import jax
import jax.numpy as jnp

from hackmatrix.env import HackMatrixEnv


def random_valid_actions(key, masks):
    """Draw, for each row of a bool[N, 28] mask, an action uniformly among its True entries.

    One 32-bit word per environment reduced modulo its number of valid actions (bias below
    28 / 2**32): the harness should cost next to nothing beside the environment it measures.
    """
    counts = masks.sum(axis=-1).astype(jnp.uint32)
    rank = (jax.random.bits(key, counts.shape, jnp.uint32) % counts).astype(jnp.int32)
    return jnp.argmax(jnp.cumsum(masks, axis=-1) > rank[:, None], axis=-1).astype(jnp.int32)


def make_rollout(env: HackMatrixEnv, num_envs: int, num_steps: int):
    """Return a jitted (key, states) -> (states, total reward) running num_steps vmapped steps."""
    params = env.default_params
    v_step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    v_mask = jax.vmap(env.action_mask)

    def one_step(carry, key):
        states, total = carry
        k_act, k_step = jax.random.split(key)
        actions = random_valid_actions(k_act, v_mask(states))
        _, states, reward, _, _, _ = v_step(jax.random.split(k_step, num_envs), states, actions,
                                         params)
        return (states, total + reward.sum()), None

    @jax.jit
    def rollout(key, states):
        (states, total), _ = jax.lax.scan(one_step, (states, jnp.float32(0.0)),
                                          jax.random.split(key, num_steps))
        return states, total

    return rollout


def measure(num_envs: int, num_steps: int, repeats: int):
    """Return (compile seconds, steps per second) for one batch size."""
    env = HackMatrixEnv()
    _, states = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.key(0), num_envs))
    rollout = make_rollout(env, num_envs, num_steps)
    start = time.perf_counter()
    compiled = rollout.lower(jax.random.key(1), states).compile()
    compile_s = time.perf_counter() - start
    states, total = compiled(jax.random.key(1), states)  # warm-up, not timed
    jax.block_until_ready(total)
    start = time.perf_counter()
    for r in range(repeats):
        states, total = compiled(jax.random.key(2 + r), states)
    jax.block_until_ready(total)
    elapsed = time.perf_counter() - start
    return compile_s, num_envs * num_steps * repeats / elapsed


def main(argv=None):
    """Parse the flags and print one table row per batch size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num-envs", type=int, nargs="+", default=[1, 64, 256, 1024, 2048])
    parser.add_argument("--steps", type=int, default=128, help="scan length per call")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls after compiling")
    args = parser.parse_args(argv)
    print(f"backend={jax.default_backend()} devices={jax.devices()}")
    print(f"{'num_envs':>9} {'compile_s':>10} {'steps/s':>12}")
    for n in args.num_envs:
        compile_s, sps = measure(n, args.steps, args.repeats)
        print(f"{n:>9} {compile_s:>10.1f} {sps:>12,.0f}", flush=True)


if __name__ == "__main__":
    main()
