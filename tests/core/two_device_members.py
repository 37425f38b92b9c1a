"""Helper of test_multi_seed.py, run with two forced host devices: a population of two probe runs
(two seeds, each with its own entropy coefficient) trained for a few updates; saves the params."""

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np
from conftest import LOOP_BASE, ProbeEnv, probe_train_reduce

from hackmatrix.core import load_config, make_train
from hackmatrix.core.parallel import compile_trainer, make_mesh, place_hparams, stack_seed_keys

# 6 envs: not a multiple of the device count, so only a split by member fits two devices.
OVERRIDES = [*LOOP_BASE, "env.num_envs=6", "ppo.num_minibatches=2", "network.kind=mlp"]
SEEDS = (3, 8)
ENT_COEFS = (0.0, 0.2)
UPDATES = 2  # one chunk (run.updates_per_chunk)


def train_members(devices=None) -> tuple:
    """Train the two members on the given devices; return (params, runner state)."""
    config = load_config(None, OVERRIDES)
    trainer = make_train(config, ProbeEnv(), None, probe_train_reduce)
    compiled = compile_trainer(trainer, make_mesh(devices), len(SEEDS))
    hparams = {name: np.full((len(SEEDS),), value, np.float32) for name, value in trainer.hparams}
    hparams["ent_coef"] = np.asarray(ENT_COEFS, np.float32)
    runner = compiled.init(stack_seed_keys(SEEDS))
    runner, _ = compiled.chunk(runner, jnp.int32(UPDATES), place_hparams(compiled, hparams))
    return runner


def main(out):
    """Train on every (two) device; save the params and say how the runner was sharded."""
    runner = train_members()
    leaves = jax.tree_util.tree_leaves_with_path(jax.device_get(runner.params))
    np.savez(out, **{jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in leaves})
    print(json.dumps({"devices": len(jax.devices()), "obs_spec": list(runner.obs.sharding.spec),
                      "updates": np.asarray(runner.update).tolist()}))


if __name__ == "__main__":
    main(sys.argv[1])
