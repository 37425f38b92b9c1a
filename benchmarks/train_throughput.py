"""Training throughput: env steps/s of whole PPO updates (rollout + learning + metrics).

For each network kind (`--network mlp grid`: one table line per kind and env count, same run)
and env count (x 128 steps, the PPO shape `hackmatrix train` would use after
auto-scaling) it measures:
  * the trainer: the compiled chunk of `hackmatrix.core` (K updates per call, metrics reduced
    inside the jit, one device->host transfer per chunk);
  * the time shares of its parts, each jitted and timed alone: the rollout (env + policy), split
    into the policy forward passes (timed alone on the collected observations) and the env (the
    rest), the learning step (GAE + epochs x minibatches) and the metrics reduction;
  * two straightforward implementations of the same PPO shape (same env, network, losses and
    optimiser), with the per-update metrics computed on the host in NumPy from the rollout info:
    - "python loop" (CleanRL style): one jitted call per env step and per minibatch, driven by
      Python loops over steps, epochs and minibatches;
    - "per-update jit" (PureJaxRL style without chunks): one jitted rollout and one jitted
      learning step per update (a shuffled copy of the batch every epoch).

The "ceiling" next to each baseline is its time per update over the trainer's learning step
alone: the most any trainer with this network and PPO shape could gain over it, even with a
rollout that cost nothing.

    python benchmarks/train_throughput.py [--num-envs 64 256 1024] [--num-steps 128] [--updates 3]
        [--network mlp grid]
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hackmatrix.core import distribution, losses
from hackmatrix.core.autoscale import auto_scale_for_batch_size
from hackmatrix.core.config import batch_size, load_config, minibatch_size
from hackmatrix.core.gae import compute_gae
from hackmatrix.core.parallel import compile_for_config, make_mesh
from hackmatrix.core.rollout import Transition, collect, final_values
from hackmatrix.core.train import default_env
from hackmatrix.core.update import learning_rate_at, make_learner
from hackmatrix.env.constants import NUM_ACTIONS, REWARD_KEYS
from hackmatrix.metrics import reduce_update


def timed(fn, *args, repeats):
    """Return (last result, mean seconds per call) after one warm-up call."""
    jax.block_until_ready(fn(*args))
    start = time.perf_counter()
    for _ in range(repeats):
        out = fn(*args)
    jax.block_until_ready(out)
    return out, (time.perf_counter() - start) / repeats


def policy_forward(apply_fn):
    """Jitted scan of the rollout's policy forward passes alone, over collected observations."""
    @jax.jit
    def run(params, obs):
        return jax.lax.scan(lambda c, o: (c, apply_fn(params, o)), 0, obs)[1]

    return run


def naive_learner(config, apply_fn, tx):
    """The usual PureJaxRL-style learning step: a shuffled copy of the batch every epoch."""
    ppo = config.ppo
    n_batch, n_mb = batch_size(config), ppo.num_minibatches

    def step(carry, batch):
        params, opt_state = carry
        (_, stats), grads = jax.value_and_grad(losses.ppo_loss, has_aux=True)(
            params, apply_fn, batch, ppo)
        stats["grad_norm"] = optax.tree.norm(grads)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), stats

    def epoch(carry, key, data):
        perm = jax.random.permutation(key, n_batch)
        shuffled = jax.tree.map(lambda x: jnp.take(x, perm, axis=0), data)
        mbs = jax.tree.map(lambda x: x.reshape((n_mb, -1) + x.shape[1:]), shuffled)
        return jax.lax.scan(step, carry, mbs)

    @jax.jit
    def learn(params, opt_state, traj, last_value, key):
        adv, targets = compute_gae(traj.reward, traj.value, traj.terminated, traj.truncated,
                                   traj.final_value, last_value, ppo.gamma, ppo.gae_lambda)
        data = losses.Batch(obs=traj.obs, mask=traj.mask, action=traj.action,
                            log_prob=traj.log_prob, value=traj.value, advantage=adv,
                            target=targets)
        data = jax.tree.map(lambda x: x.reshape((n_batch,) + x.shape[2:]), data)
        (params, opt_state), stats = jax.lax.scan(
            lambda c, k: epoch(c, k, data), (params, opt_state),
            jax.random.split(key, ppo.update_epochs))
        return params, opt_state, stats

    return learn


def host_metrics(info, actions, stats):
    """The per-update metrics computed on the host with NumPy (the straightforward way)."""
    out = {f"reward/{k}": float(np.mean(info.rewards[k])) for k in REWARD_KEYS}
    counts = np.bincount(actions.reshape(-1), minlength=NUM_ACTIONS) / actions.size
    out.update({f"actions/{i}": float(c) for i, c in enumerate(counts)})
    done = info.done
    if done.any():
        for k in ("episode_return", "episode_length", "episode_final_stage", "episode_won"):
            out[k] = float(np.mean(getattr(info, k)[done]))
    out.update({k: float(np.mean(v)) for k, v in stats.items()})
    return out


def _start(compiled):
    """Host copies of a fresh runner's pieces."""
    runner = jax.device_get(compiled.init(jax.random.PRNGKey(1)))
    return (runner.params, runner.opt_state, runner.env_state, runner.obs, runner.mask,
            runner.key)


def _rate(one_update, carry, updates, steps):
    carry = one_update(*carry)  # compile
    jax.block_until_ready(carry)
    start = time.perf_counter()
    for _ in range(updates):
        carry = one_update(*carry)
    jax.block_until_ready(carry)
    return updates * steps / (time.perf_counter() - start)


def measure_per_update_jit(config, env, env_params, compiled, updates):
    """Steps/s with one jitted rollout and one jitted learning step per update."""
    apply_fn = compiled.trainer.network.apply
    learn = naive_learner(config, apply_fn, compiled.trainer.optimizer)

    @jax.jit
    def rollout(params, env_state, obs, mask, key):
        carry, traj, info = collect(env, env_params, apply_fn, params, env_state, obs, mask, key,
                                    config.ppo.num_steps)
        return carry, traj, info, apply_fn(params, carry[1])[1]

    def one_update(params, opt_state, state, obs, mask, key):
        key, k1, k2 = jax.random.split(key, 3)
        (state, obs, mask), traj, info, last_value = rollout(params, state, obs, mask, k1)
        params, opt_state, stats = learn(params, opt_state, traj, last_value, k2)
        host_metrics(jax.device_get(info), np.asarray(traj.action), jax.device_get(stats))
        return params, opt_state, state, obs, mask, key

    return _rate(one_update, _start(compiled), updates, batch_size(config))


def measure_python_loop(config, env, env_params, compiled, updates):
    """Steps/s with one jitted call per env step and per minibatch (CleanRL style)."""
    apply_fn, tx, ppo = compiled.trainer.network.apply, compiled.trainer.optimizer, config.ppo
    num_envs, n_batch = config.env.num_envs, batch_size(config)
    @jax.jit
    def env_step(params, state, obs, mask, key):
        k_act, k_env = jax.random.split(key)
        logits, value = apply_fn(params, obs)
        action = distribution.sample(k_act, logits, mask)
        log_prob = distribution.log_prob(logits, mask, action)
        next_obs, state, reward, _, info, final = jax.vmap(
            env.step_with_final, in_axes=(0, 0, 0, None))(
            jax.random.split(k_env, num_envs), state, action, env_params)
        t = Transition(obs=obs, mask=mask, action=action, log_prob=log_prob, value=value,
                       reward=reward, terminated=info.terminated, truncated=info.truncated,
                       final_value=final_values(env, apply_fn, params, info.truncated, final))
        return state, next_obs, jax.vmap(env.action_mask)(state), t, info

    @jax.jit
    def advantages(params, traj, last_obs):
        last_value = apply_fn(params, last_obs)[1]
        adv, targets = compute_gae(traj.reward, traj.value, traj.terminated, traj.truncated,
                                   traj.final_value, last_value, ppo.gamma, ppo.gae_lambda)
        data = losses.Batch(obs=traj.obs, mask=traj.mask, action=traj.action,
                            log_prob=traj.log_prob, value=traj.value, advantage=adv,
                            target=targets)
        return jax.tree.map(lambda x: x.reshape((n_batch,) + x.shape[2:]), data)

    @jax.jit
    def minibatch_step(params, opt_state, data, idx):
        batch = jax.tree.map(lambda x: x[idx], data)
        (_, stats), grads = jax.value_and_grad(losses.ppo_loss, has_aux=True)(
            params, apply_fn, batch, ppo)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, stats

    rng = np.random.default_rng(0)

    def one_update(params, opt_state, state, obs, mask, key):
        steps, infos = [], []
        for _ in range(ppo.num_steps):
            key, sub = jax.random.split(key)
            state, obs, mask, t, info = env_step(params, state, obs, mask, sub)
            steps.append(t)
            infos.append(info)
        traj = jax.tree.map(lambda *x: jnp.stack(x), *steps)
        data = advantages(params, traj, obs)
        stats = []
        for _ in range(ppo.update_epochs):
            for idx in rng.permutation(n_batch).reshape(ppo.num_minibatches, -1):
                params, opt_state, s = minibatch_step(params, opt_state, data, idx)
                stats.append(s)
        info = jax.device_get(jax.tree.map(lambda *x: jnp.stack(x), *infos))
        host_metrics(info, np.asarray(traj.action),
                     {k: np.asarray([float(s[k]) for s in stats]) for k in stats[0]})
        return params, opt_state, state, obs, mask, key

    return _rate(one_update, _start(compiled), updates, n_batch)


def measure(num_envs, num_steps, updates, baseline, network="mlp"):
    """Print and return the measurements of one network kind at one env count."""
    config = auto_scale_for_batch_size(load_config(None, [
        f"network.kind={network}", f"env.num_envs={num_envs}", f"ppo.num_steps={num_steps}",
        f"ppo.total_timesteps={num_envs * num_steps * 1000}",
        f"run.updates_per_chunk={updates}"]))
    env, env_params = default_env(config)
    start = time.perf_counter()
    compiled = compile_for_config(config, make_mesh())
    compile_s = time.perf_counter() - start
    runner = compiled.init(jax.random.PRNGKey(0))
    n = jnp.int32(updates)
    runner, _ = compiled.chunk(runner, n)  # warm-up (also fills the caches)
    jax.block_until_ready(runner)
    start = time.perf_counter()
    runner, metrics = compiled.chunk(runner, n)
    jax.device_get(metrics)
    chunk_s = (time.perf_counter() - start) / updates
    steps = batch_size(config)

    trainer = compiled.trainer
    apply_fn = trainer.network.apply
    host = jax.device_get(runner)
    policy_rollout = jax.jit(lambda p, s, o, m, k: collect(env, env_params, apply_fn, p, s, o, m,
                                                           k, num_steps))
    (carry, traj, info), rollout_s = timed(policy_rollout, host.params, host.env_state, host.obs,
                                           host.mask, jax.random.PRNGKey(4), repeats=1)
    _, policy_s = timed(policy_forward(apply_fn), host.params, traj.obs, repeats=1)
    env_s = rollout_s - policy_s
    learn = jax.jit(make_learner(config, apply_fn, trainer.optimizer))
    last_value = apply_fn(host.params, carry[1])[1]
    (_, _, stats), learn_s = timed(learn, host.params, host.opt_state, traj, last_value,
                                   jax.random.PRNGKey(5), repeats=1)
    reduce = jax.jit(lambda i, a, s: reduce_update(i, a, s, learning_rate_at(config,
                                                                             jnp.int32(0))))
    _, metrics_s = timed(reduce, info, traj.action, stats, repeats=3)
    parts = rollout_s + learn_s + metrics_s
    result = {
        "network": network, "num_envs": num_envs, "compile_s": compile_s, "sps": steps / chunk_s,
        "shape": f"{config.ppo.num_minibatches} mb x {config.ppo.update_epochs} ep "
                 f"(minibatch {minibatch_size(config)})",
        "env": env_s / parts, "policy": policy_s / parts, "learn": learn_s / parts,
        "metrics": metrics_s / parts,
    }
    if baseline:
        result["per_update_sps"] = measure_per_update_jit(config, env, env_params, compiled,
                                                          updates)
        result["python_loop_sps"] = measure_python_loop(config, env, env_params, compiled,
                                                        updates)
    line = (f"{network:<4} {num_envs:>5} envs  {result['shape']:<28} trainer {result['sps']:>8,.0f} steps/s"
            f"  | env {result['env']:5.1%}  policy {result['policy']:5.1%}  learn "
            f"{result['learn']:5.1%}  metrics {result['metrics']:5.1%}"
            f"  | compile {compile_s:5.1f}s")
    if baseline:
        for name, key in (("per-update jit", "per_update_sps"), ("python loop",
                                                                  "python_loop_sps")):
            # Both run the same learning step, so even a free rollout could not beat the
            # baseline by more than its time per update over that step's.
            ceiling = steps / result[key] / learn_s
            line += (f"  | {name} {result[key]:>7,.0f} steps/s "
                     f"(trainer x{result['sps'] / result[key]:.2f}, ceiling x{ceiling:.2f})")
    print(line, flush=True)
    return result


def main():
    """Parse the arguments and measure each env count."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-envs", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--num-steps", type=int, default=128)
    parser.add_argument("--updates", type=int, default=3, help="updates per timed chunk")
    parser.add_argument("--network", nargs="+", default=["mlp"], choices=["mlp", "grid"],
                        help="network kinds to measure (config defaults otherwise)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the straightforward implementation")
    args = parser.parse_args()
    print(f"backend {jax.default_backend()}, {jax.device_count()} device(s); "
          f"env steps/s include the PPO update", flush=True)
    for num_envs in args.num_envs:
        for network in args.network:
            measure(num_envs, args.num_steps, args.updates, not args.no_baseline, network)


if __name__ == "__main__":
    main()
