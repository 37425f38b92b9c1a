"""Scale the PPO shape to the batch size: keep minibatches near the reference, fewer epochs, lower lr.

Reference: 256 envs x 128 steps = 32768 transitions, 4 minibatches (8192 each) x 4 epochs = 16
gradient steps at lr 1.5e-3. For a batch `g` times larger: num_minibatches ~ 4g (the divisor of the
batch closest to batch/8192), update_epochs = max(2, 4 // g), and the learning rate times
16 / (new gradient steps). Batches no larger than the reference are left as they are.
"""

import dataclasses

from hackmatrix.core.config import (
    Config,
    batch_size,
    config_from_dict,
    flat_dict,
    gradient_steps,
    nearest_divisor,
)

REFERENCE_BATCH = 256 * 128
REFERENCE_MINIBATCH = 8192
REFERENCE_EPOCHS = 4
MIN_EPOCHS = 2
REFERENCE_GRADIENT_STEPS = 16


def auto_scale_for_batch_size(config: Config) -> Config:
    """Return the config scaled to its batch size; `autoscaled` lists (key, old, new) changes."""
    batch = batch_size(config)
    if not config.ppo.auto_scale or batch <= REFERENCE_BATCH:
        return config
    growth = batch / REFERENCE_BATCH
    flat = flat_dict(config)
    proposed = {}
    if "ppo.num_minibatches" not in config.explicit:
        proposed["ppo.num_minibatches"] = nearest_divisor(batch, batch / REFERENCE_MINIBATCH)
    if "ppo.update_epochs" not in config.explicit:
        proposed["ppo.update_epochs"] = max(MIN_EPOCHS, int(REFERENCE_EPOCHS // growth))
    epochs = proposed.get("ppo.update_epochs", config.ppo.update_epochs)
    minibatches = proposed.get("ppo.num_minibatches", config.ppo.num_minibatches)
    if "ppo.learning_rate" not in config.explicit:
        # Relative to the config's own rate, so a user-chosen base rate scales the same way.
        steps = epochs * minibatches
        proposed["ppo.learning_rate"] = (
            config.ppo.learning_rate * REFERENCE_GRADIENT_STEPS / steps
        )
    changes = tuple((k, flat[k], v) for k, v in proposed.items() if v != flat[k])
    if not changes:
        return config
    flat.update({k: v for k, _, v in changes})
    scaled = config_from_dict(flat, config.explicit)
    return dataclasses.replace(scaled, autoscaled=config.autoscaled + changes)


def describe_auto_scale(config: Config) -> str:
    """Return a one-line human summary of what auto-scaling changed (empty when nothing)."""
    if not config.autoscaled:
        return ""
    parts = ", ".join(f"{k} {old} -> {new:.4g}" if isinstance(new, float) else f"{k} {old} -> {new}"
                      for k, old, new in config.autoscaled)
    return (f"auto-scaled for batch {batch_size(config)} ({gradient_steps(config)} gradient steps "
            f"per update): {parts}")
