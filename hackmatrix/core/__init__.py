"""The PPO trainer: config, networks, rollout, GAE, losses, update, checkpoints and the host loop.

The public names are imported on first use, so `hackmatrix --help` does not load JAX.
"""

import importlib

_EXPORTS = {
    "Config": "hackmatrix.core.config",
    "load_config": "hackmatrix.core.config",
    "auto_scale_for_batch_size": "hackmatrix.core.autoscale",
    "make_train": "hackmatrix.core.train",
}

__all__ = ["Config", "auto_scale_for_batch_size", "load_config", "make_train"]


def __getattr__(name):
    """Import a public name from its module on first access."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hackmatrix.core' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
