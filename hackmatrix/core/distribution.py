"""Masked categorical distribution: invalid actions get zero probability and no entropy share."""

import jax
import jax.numpy as jnp

# A finite stand-in for -inf: exp() of it underflows to exactly 0, and unlike -inf it never
# produces inf - inf = NaN in log_softmax or 0 * -inf = NaN in the entropy.
MASKED_LOGIT = -1e9


def masked_logits(logits, mask):
    """Return logits with invalid actions pushed to MASKED_LOGIT."""
    return jnp.where(mask, logits, MASKED_LOGIT)


def log_probs(logits, mask):
    """Return log-probabilities over actions; invalid actions get about MASKED_LOGIT."""
    return jax.nn.log_softmax(masked_logits(logits, mask), axis=-1)


def sample(key, logits, mask):
    """Draw one valid action per row (int32)."""
    return jax.random.categorical(key, masked_logits(logits, mask), axis=-1).astype(jnp.int32)


def log_prob(logits, mask, action):
    """Return log pi(action) for each row."""
    logp = log_probs(logits, mask)
    return jnp.take_along_axis(logp, action[..., None].astype(jnp.int32), axis=-1)[..., 0]


def entropy(logits, mask):
    """Return the entropy over valid actions only (invalid ones contribute exactly 0)."""
    logp = log_probs(logits, mask)
    return -jnp.sum(jnp.where(mask, jnp.exp(logp) * logp, 0.0), axis=-1)
