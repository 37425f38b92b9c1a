"""Helper of test_training.py, run with two forced host devices: two chunk updates, saved."""

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np

from hackmatrix.core import load_config
from hackmatrix.core.parallel import (
    compile_for_config,
    default_hparams,
    make_mesh,
    place_hparams,
    stack_seed_keys,
)


def main(out, overrides):
    """Train 2 updates of the given config over all (two) devices; save params and losses."""
    config = load_config(None, overrides)
    mesh = make_mesh()
    compiled = compile_for_config(config, mesh)
    runner = compiled.init(stack_seed_keys([config.run.seed]))
    hparams = place_hparams(compiled, default_hparams(compiled.trainer))
    runner, metrics = compiled.chunk(runner, jnp.int32(2), hparams)
    leaves = jax.tree_util.tree_leaves_with_path(jax.device_get(runner.params))
    arrays = {jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in leaves}
    arrays["__total_loss"] = np.asarray(metrics["train/total_loss"])
    np.savez(out, **arrays)
    shards = len(runner.obs.addressable_shards)
    print(json.dumps({"devices": len(jax.devices()), "env_shards": shards}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
