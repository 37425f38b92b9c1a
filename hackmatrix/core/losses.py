"""The PPO objective: clipped surrogate, (optionally clipped) value loss, masked entropy bonus."""

import jax.numpy as jnp
from flax import struct

from hackmatrix.core import distribution

# The stats key of the minimised objective; the loop's divergence check reads it by this name.
TOTAL_LOSS = "total_loss"


@struct.dataclass
class Batch:
    """Transitions of one minibatch, flattened to a leading batch axis."""

    obs: jnp.ndarray  # float32[B, OBS_SIZE]
    mask: jnp.ndarray  # bool[B, NUM_ACTIONS]
    action: jnp.ndarray  # int32[B]
    log_prob: jnp.ndarray  # float32[B], behaviour policy
    value: jnp.ndarray  # float32[B], critic at collection time
    advantage: jnp.ndarray  # float32[B]
    target: jnp.ndarray  # float32[B], GAE return


def ppo_loss(params, apply_fn, batch: Batch, ppo):
    """Return (total loss, stats) for one minibatch; `ppo` is the PPO config section."""
    logits, value = apply_fn(params, batch.obs)
    new_logp = distribution.log_prob(logits, batch.mask, batch.action)
    log_ratio = new_logp - batch.log_prob
    ratio = jnp.exp(log_ratio)

    adv = batch.advantage
    if ppo.normalize_advantages:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    surrogate = jnp.minimum(ratio * adv,
                            jnp.clip(ratio, 1.0 - ppo.clip_eps, 1.0 + ppo.clip_eps) * adv)
    policy_loss = -surrogate.mean()

    value_err = jnp.square(value - batch.target)
    if ppo.clip_value_loss:
        clipped = batch.value + jnp.clip(value - batch.value, -ppo.clip_eps, ppo.clip_eps)
        value_err = jnp.maximum(value_err, jnp.square(clipped - batch.target))
    value_loss = 0.5 * value_err.mean()

    entropy = distribution.entropy(logits, batch.mask).mean()
    total = policy_loss + ppo.vf_coef * value_loss - ppo.ent_coef * entropy
    stats = {
        "policy_loss": policy_loss,
        "value_loss": value_loss,
        "entropy": entropy,
        TOTAL_LOSS: total,
        # The low-variance estimator (r - 1) - log r of KL(old || new).
        "approx_kl": ((ratio - 1.0) - log_ratio).mean(),
        "clip_frac": (jnp.abs(ratio - 1.0) > ppo.clip_eps).astype(jnp.float32).mean(),
    }
    return total, stats
