"""Exported policies: the network params alone, with a small JSON that says how to rebuild them.

An export directory holds `policy.json` (format, version, the observation layout version, the
`network` config section, the episode length limit, where the policy came from and the params'
SHA-256) and `params.msgpack` (flax msgpack of the actor-critic params). It is a fraction of a
checkpoint's size (no optimizer state, no env states) and loads without the training config:
`hackmatrix.analysis.policy.load_policy(OUT_DIR)` returns the same Policy as for a checkpoint, so
`hackmatrix eval` and `watch` take an export directory wherever they take a checkpoint.
"""

import hashlib
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization

from hackmatrix.core import checkpoint as ckpt
from hackmatrix.core.config import config_from_dict
from hackmatrix.core.networks import make_network
from hackmatrix.env.constants import NUM_ACTIONS, OBS_LAYOUT, OBS_LAYOUT_VERSION, OBS_SIZE
from hackmatrix.errors import CheckpointError, ConfigError

FORMAT = "hackmatrix-policy"
VERSION = 1
META_FILE = "policy.json"
PARAMS_FILE = "params.msgpack"
NETWORK_KEYS = ("kind", "hidden_sizes", "activation", "conv_channels")


def is_export(path) -> bool:
    """True when `path` is a directory written by `export_policy`."""
    return Path(path, META_FILE).is_file()


def export_policy(policy, out_dir) -> Path:
    """Write a loaded Policy's params and its policy.json into out_dir; return the JSON's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Process-local, not ckpt.host_copy: only process 0 of a multi-host run exports, and a
    # cross-process gather would wait forever for the others.
    payload = serialization.to_bytes(jax.tree.map(np.asarray, jax.device_get(policy.params)))
    net = policy.config.network
    meta = {
        "format": FORMAT, "version": VERSION, "obs_layout_version": OBS_LAYOUT_VERSION,
        "obs_size": OBS_SIZE, "num_actions": NUM_ACTIONS,
        "network": {k: list(v) if isinstance(v, tuple) else v
                    for k, v in ((k, getattr(net, k)) for k in NETWORK_KEYS)},
        "max_steps_in_episode": policy.config.env.max_steps_in_episode,
        "source": {"checkpoint": str(policy.checkpoint), "update": policy.update,
                   "env_steps": policy.env_steps, "seed": policy.seed,
                   "run_id": policy.header.get("run_id")},
        "params_sha256": hashlib.sha256(payload).hexdigest(),
    }
    # Params first: a reader that finds policy.json finds the params it describes.
    ckpt.write_atomic(out_dir / PARAMS_FILE, payload)
    ckpt.write_atomic(out_dir / META_FILE, (json.dumps(meta, indent=1) + "\n").encode())
    return out_dir / META_FILE


def _read_meta(out_dir: Path) -> dict:
    path = out_dir / META_FILE
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"cannot read exported policy '{path}': {err}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"'{path}' is not a hackmatrix policy export")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"exported policy '{path}' has version {meta.get('version')!r}; "
                              f"this version reads version {VERSION} only")
    if meta.get("obs_layout_version") != OBS_LAYOUT_VERSION:
        raise CheckpointError(
            f"exported policy '{path}' was trained on observation layout "
            f"{meta.get('obs_layout_version')!r}; this version observes layout "
            f"{OBS_LAYOUT_VERSION}, so the network would misread every observation")
    return meta


def load_export(out_dir, seed_index: int = 0):
    """Return the Policy of an export directory (see hackmatrix.analysis.policy.load_policy)."""
    from hackmatrix.analysis.policy import Policy

    out_dir = Path(out_dir)
    meta = _read_meta(out_dir)
    if seed_index != 0:
        raise ConfigError(f"--seed-index {seed_index}: an exported policy holds one seed; "
                          f"allowed: 0")
    try:
        flat = {f"network.{k}": meta["network"][k] for k in NETWORK_KEYS}
        flat["env.max_steps_in_episode"] = meta["max_steps_in_episode"]
        config = config_from_dict(flat)
    except (KeyError, TypeError, ConfigError) as err:
        raise CheckpointError(f"exported policy '{out_dir / META_FILE}' holds a network this "
                              f"version cannot build: {err}") from None
    path = out_dir / PARAMS_FILE
    try:
        payload = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"cannot read '{path}': {err.strerror}") from None
    if hashlib.sha256(payload).hexdigest() != meta.get("params_sha256"):
        raise CheckpointError(f"'{path}' is corrupt or truncated: its checksum does not match "
                              f"{META_FILE}")
    network = make_network(config.network, NUM_ACTIONS, OBS_LAYOUT)
    shapes = jax.eval_shape(network.init, jax.random.PRNGKey(0), jnp.zeros((1, OBS_SIZE)))
    params = ckpt.restore(path, shapes, payload=payload)
    source = meta.get("source") or {}
    header = {"update": source.get("update", 0), "env_steps": source.get("env_steps", 0),
              "run_id": source.get("run_id")}
    return Policy(network=network, params=jax.tree.map(jnp.asarray, params), config=config,
                  header=header, checkpoint=out_dir, seed=source.get("seed"), exported=True)
