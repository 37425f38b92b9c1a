"""A trained policy loaded from a checkpoint: the network, its params and the run's config.

The params are restored through the trainer's public checkpoint functions: the target shape is
the runner state that `make_train(config)` would build for the checkpoint's own (auto-scaled)
config, so a checkpoint from another network or code version fails with a CheckpointError.
A multi-seed checkpoint (its header lists `seeds`) holds every seed's runner stacked; the policy is
the one of the seed at `seed_index` (0: the first seed of the run's list).
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp

from hackmatrix.core import checkpoint as ckpt
from hackmatrix.core.config import Config, all_keys, config_from_dict, flatten
from hackmatrix.core.distribution import log_probs, masked_logits
from hackmatrix.core.train import make_train
from hackmatrix.errors import CheckpointError, ConfigError

# Action choice of a policy: the most probable valid action, a draw from the policy, or a
# uniform draw over the valid actions (the baseline, which ignores the network).
GREEDY, SAMPLE, RANDOM = 0, 1, 2
MODE_NAMES = ("greedy", "sample", "random")


@dataclass(frozen=True)
class Policy:
    """A trained actor-critic: `apply(params, obs) -> (logits, value)` and where it came from."""

    network: object
    params: dict
    config: Config
    header: dict
    checkpoint: Path
    seed: int | None = None  # the seed of a multi-seed run's policy (None: a one-seed run)
    exported: bool = False  # loaded from an export directory (hackmatrix export): no run

    @property
    def update(self) -> int:
        """Updates trained when the checkpoint was written."""
        return int(self.header.get("update", 0))

    @property
    def env_steps(self) -> int:
        """Env steps trained when the checkpoint was written."""
        return int(self.header.get("env_steps", 0))


def config_of_header(path, header: dict) -> Config:
    """Return the resolved config stored in a checkpoint header."""
    try:
        flat = flatten(header["config"], all_keys())
        return config_from_dict(flat, frozenset(header.get("explicit", ())))
    except (KeyError, ConfigError) as err:
        raise CheckpointError(f"checkpoint '{path}' holds a config this version cannot use: "
                              f"{err}") from None


def load_policy(path_or_run_dir, compilation_cache: bool = False, seed_index: int = 0) -> Policy:
    """Load the policy of a checkpoint file, a run directory's newest checkpoint, or an export.

    An export directory (written by `hackmatrix export`) needs neither the training config nor
    the optimizer state: see hackmatrix.analysis.export.

    With `compilation_cache`, first turn on the run's persistent XLA cache (see
    `enable_compilation_cache`): it must happen before JAX compiles anything in the process.
    `seed_index` picks the seed of a multi-seed run (index into its seed list).
    """
    from hackmatrix.analysis.export import is_export, load_export

    if is_export(path_or_run_dir):
        policy = load_export(path_or_run_dir, seed_index)
        if compilation_cache:
            enable_compilation_cache(policy.config)
        return policy
    path, header, payload = ckpt.load_newest_valid(
        path_or_run_dir, lambda m: print(f"hackmatrix: {m}", file=sys.stderr, flush=True))
    config = config_of_header(path, header)
    if compilation_cache:
        enable_compilation_cache(config)
    trainer = make_train(config)
    seeds = header.get("seeds")
    if seeds is None:
        if seed_index != 0:
            raise ConfigError(f"--seed-index {seed_index}: checkpoint '{path}' is of a one-seed "
                              f"run; allowed: 0")
        shapes = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
    else:
        if not 0 <= seed_index < len(seeds):
            raise ConfigError(f"--seed-index {seed_index}: checkpoint '{path}' holds the seeds "
                              f"{seeds}; allowed: 0 to {len(seeds) - 1}")
        keys = jax.ShapeDtypeStruct((len(seeds), 2), jnp.uint32)
        shapes = jax.eval_shape(jax.vmap(trainer.init), keys)
    runner = ckpt.restore(path, shapes, header, payload)
    params = runner.params if seeds is None else jax.tree.map(lambda x: x[seed_index],
                                                              runner.params)
    return Policy(network=trainer.network, params=jax.tree.map(jnp.asarray, params),
                  config=config, header=header, checkpoint=path,
                  seed=header.get("seed") if seeds is None else int(seeds[seed_index]))


def best_checkpoint(run_dir, seed_index: int = 0) -> tuple:
    """Return (best checkpoint file, seed index within it) of a run directory (`--best`).

    A multi-seed run keeps one best checkpoint per seed (best-seed-<s>.ckpt), each holding only
    that seed, so the index within the file is 0.
    """
    from hackmatrix.core.evaluation import best_name
    from hackmatrix.core.run_dir import CHECKPOINT_DIR, read_run_info

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError(f"--best needs a run directory, got '{run_dir}'; name the run "
                          f"directory instead of a checkpoint file")
    seeds = read_run_info(run_dir).get("seeds")
    if seeds is not None and not 0 <= seed_index < len(seeds):
        raise ConfigError(f"--seed-index {seed_index}: run '{run_dir}' has the seeds {seeds}; "
                          f"allowed: 0 to {len(seeds) - 1}")
    path = run_dir / CHECKPOINT_DIR / best_name(None if seeds is None else seeds[seed_index])
    if not path.is_file():
        raise CheckpointError(f"'{path}' does not exist: the run kept no best checkpoint; train "
                              f"with eval.every_updates=N to evaluate during training")
    return path, 0


def enable_compilation_cache(config: Config) -> None:
    """Use the run's persistent XLA cache (run.compilation_cache), as `hackmatrix train` does.

    A second eval of the same run's network then skips compiling the game. JAX reads the
    setting at its first compilation, so call this before anything is compiled.
    """
    if config.run.compilation_cache:
        path = Path(config.run.compilation_cache).expanduser()
        jax.config.update("jax_compilation_cache_dir", str(path))


def choose_action(key, logits, mask, mode):
    """Return the action of each row for a traced mode (GREEDY, SAMPLE or RANDOM)."""
    greedy = jnp.argmax(masked_logits(logits, mask), axis=-1).astype(jnp.int32)
    uniform = jnp.zeros_like(logits)
    scores = jnp.where(mode == RANDOM, uniform, logits)
    drawn = jax.random.categorical(key, masked_logits(scores, mask), axis=-1).astype(jnp.int32)
    return jnp.where(mode == GREEDY, greedy, drawn)


def action_probabilities(logits, mask):
    """Return the policy's probability of every action (0 for invalid ones)."""
    return jnp.where(mask, jnp.exp(log_probs(logits, mask)), 0.0)
