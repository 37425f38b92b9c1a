"""The sections of the training configuration: each field with its type, default, doc and limits.

Every field is a `setting` (hackmatrix.options): parsed and checked when its section is built, so
a section object is always valid. The limits keep what reaches the device inside int32 (step
counters, indices) and uint32 (PRNG seeds), and sizes inside what one machine's memory can hold;
config.yaml documents the same keys for people.
"""

from dataclasses import dataclass, field, fields

from hackmatrix.env.curriculum import Curriculum
from hackmatrix.metrics.health import HealthConfig
from hackmatrix.options import INT32_MAX, SEED_MAX, Checked, Option, setting

# Largest finite float32: floats that reach the device beyond it would be inf there.
FLOAT32_MAX = 3.4e38
# Parallel games of one device batch: 2**20 games x 128 steps is already 2**27 transitions.
MAX_ENVS = 2**20
# Distinct seeds trained side by side in one process (each one a full set of envs and params).
MAX_SEEDS = 1024
# The eval summary scalars (hackmatrix.analysis.evaluate.summarize) that eval.metric may name.
EVAL_METRICS = ("win_rate", "final_stage_mean", "return_mean", "length_mean", "truncated_rate")
DEFAULT_SINKS = ("console", "jsonl", "tensorboard", "mlflow")


def _valid_name(name: str) -> bool:
    return 0 < len(name) <= 100 and all(c.isalnum() or c in "-_." for c in name)


def _distinct(seeds) -> bool:
    return not isinstance(seeds, tuple) or len(set(seeds)) == len(seeds)


@dataclass(frozen=True)
class EnvConfig(Checked):
    """Environment section."""

    SECTION = "env"
    num_envs: int = setting(256, "parallel games per update", low=1, high=MAX_ENVS)
    # The wrapper's episode-length counter is an int32 on the device.
    max_steps_in_episode: int = setting(5000, "truncation bound of the env wrapper",
                                        low=1, high=INT32_MAX)


@dataclass(frozen=True)
class PPOConfig(Checked):
    """PPO section (the reference shape of `auto_scale_for_batch_size`)."""

    SECTION = "ppo"
    num_steps: int = setting(64, "steps per env per update", low=1, high=2**16)
    # 10**15 is far beyond any run and keeps step counts exact as float64 metrics.
    total_timesteps: int = setting(1_572_864, "env steps of the whole run", low=1, high=10**15)
    update_epochs: int = setting(4, "passes over each batch", low=1, high=10_000)
    num_minibatches: int = setting(4, "gradient steps per epoch", low=1, high=INT32_MAX)
    learning_rate: float = setting(1.5e-3, "Adam step size", low=0.0, open_low=True,
                                   high=FLOAT32_MAX)
    anneal_lr: bool = setting(True, "decay the rate linearly to 0 over the run")
    gamma: float = setting(0.99, "discount factor", low=0.0, open_low=True, high=1.0)
    gae_lambda: float = setting(0.95, "GAE bias/variance trade-off", low=0.0, high=1.0)
    clip_eps: float = setting(0.2, "PPO ratio clip", low=0.0, open_low=True, high=FLOAT32_MAX)
    clip_value_loss: bool = setting(True, "clip the value update around the old value")
    ent_coef: float = setting(0.01, "entropy bonus weight", low=0.0, high=FLOAT32_MAX)
    vf_coef: float = setting(0.5, "value loss weight", low=0.0, high=FLOAT32_MAX)
    max_grad_norm: float = setting(0.5, "global gradient-norm clip", low=0.0, open_low=True,
                                   high=FLOAT32_MAX)
    normalize_advantages: bool = setting(True, "standardise advantages per minibatch")
    auto_scale: bool = setting(True, "rescale minibatches, epochs and rate for large batches")


# A 16384 x 16384 float32 dense layer is 1 GiB of parameters (and as much again per Adam moment).
_LAYERS = {"items": Option((int,), 256, "units", low=1, high=16_384), "max_items": 16}


@dataclass(frozen=True)
class NetworkConfig(Checked):
    """Network section."""

    SECTION = "network"
    kind: str = setting("ego", "mlp (flat), grid (convs over the grid) or ego (player-centred)",
                        choices=("mlp", "grid", "ego"))
    hidden_sizes: tuple = setting((256, 256), "dense layers of the actor and critic", **_LAYERS)
    activation: str = setting("tanh", "tanh or relu", choices=("tanh", "relu"))
    conv_channels: tuple = setting((32, 32), "channels of the 3x3 conv layers (grid only)",
                                   items=Option((int,), 32, "channels", low=1, high=4096),
                                   max_items=16)


_SEEDS_ALLOWED = (f"an integer in [1, {MAX_SEEDS}] or a list of 1 to {MAX_SEEDS} distinct integers "
                  f"in [0, {SEED_MAX}]")


@dataclass(frozen=True)
class RunConfig(Checked):
    """Run section."""

    SECTION = "run"
    seed: int = setting(0, "seed of everything", low=0, high=SEED_MAX)
    name: str = setting("ppo", "run directories are runs_dir/<name>-NNN", rule=(
        _valid_name, "a name of 1 to 100 letters, digits, '-', '_' and '.'"))
    runs_dir: str = setting("runs", "where run directories are created",
                            rule=(bool, "a non-empty path"))
    # The chunk stacks every update's metrics on the device before handing them over.
    updates_per_chunk: int = setting(4, "updates per compiled chunk", low=1, high=10_000)
    distributed: bool = setting(False, "call jax.distributed.initialize() first")
    compilation_cache: str = setting("~/.cache/hackmatrix/xla", "persistent XLA cache ('': off)")
    sinks_failure: str = setting("fail", "what a sink failing mid-run does to the exit status",
                                 choices=("fail", "warn"))
    # An int N (seeds seed..seed+N-1) or a tuple of distinct ints; see `seed_list`.
    seeds: int | tuple = setting(
        1, "seeds trained side by side", types=(int, tuple), low=1, high=MAX_SEEDS,
        items=Option((int,), 0, "seed", low=0, high=SEED_MAX), max_items=MAX_SEEDS,
        rule=(_distinct, _SEEDS_ALLOWED))


@dataclass(frozen=True)
class CheckpointConfig(Checked):
    """Checkpoint section."""

    SECTION = "checkpoint"
    every_updates: int = setting(16, "checkpoint every N updates (0: never by count)",
                                 low=0, high=INT32_MAX)
    every_minutes: float = setting(10.0, "and every M minutes (0: never by time)", low=0.0)
    keep_last: int = setting(3, "checkpoints kept per run", low=1, high=10_000)


@dataclass(frozen=True)
class EvalConfig(Checked):
    """Eval section: evaluation during training, the best checkpoint, early stopping, GIFs."""

    SECTION = "eval"
    every_updates: int = setting(0, "evaluate every N updates (0: off)", low=0, high=INT32_MAX)
    episodes: int = setting(32, "games per eval, vmapped", low=1, high=MAX_ENVS)
    seed: int = setting(1_000_003, "seed of the eval boards", low=0, high=SEED_MAX)
    # The eval loop's step counter is an int32 on the device.
    max_steps: int = setting(1000, "steps before a game counts as truncated",
                             low=1, high=INT32_MAX)
    sampled: bool = setting(False, "also play the games sampling from the policy")
    metric: str = setting("final_stage_mean", "what best.ckpt and early stopping rank",
                          choices=EVAL_METRICS)
    mode: str = setting("max", "max: higher eval.metric is better; min: lower",
                        choices=("max", "min"))
    target: float | None = setting(None, "stop once eval.metric reaches this (null: off)",
                                   types=(float, type(None)))
    patience: int = setting(0, "stop after this many evals without improving (0: off)",
                            low=0, high=INT32_MAX)
    gif_every: int = setting(0, "every K evals, log one game as a GIF (0: off)",
                             low=0, high=INT32_MAX)
    # Every frame of the GIF is an image held in memory until the GIF is written.
    gif_max_steps: int = setting(300, "steps of that game drawn at most", low=1, high=10_000)


# Sinks are names or {name: options} mappings; the registry checks each sink's own options.
SINKS = Option((tuple,), DEFAULT_SINKS, "where metrics go",
               items=Option((str, dict), "console", "a sink name or mapping"), min_items=0)


@dataclass(frozen=True)
class Config:
    """The whole training configuration; build it with `load_config`."""

    env: EnvConfig = field(default_factory=EnvConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    run: RunConfig = field(default_factory=RunConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    curriculum: Curriculum = field(default_factory=Curriculum)
    evaluation: EvalConfig = field(default_factory=EvalConfig)
    # A uniform policy over this game's valid actions has a masked entropy of only ~0.8 nats
    # (few actions are valid in most states), so the generic entropy floor of 1.0 is lowered.
    health: HealthConfig = field(default_factory=lambda: HealthConfig(entropy_min=0.2))
    sinks: tuple = DEFAULT_SINKS
    # Dotted keys the user set (not part of the resolved config written to a run directory).
    explicit: frozenset = frozenset()
    # (dotted key, old value, new value) for each change made by auto_scale_for_batch_size.
    autoscaled: tuple = ()


# Dotted prefix of each section -> (attribute of Config, section class), from the classes.
SECTIONS = {f.type.SECTION: (f.name, f.type) for f in fields(Config)
            if isinstance(f.type, type) and issubclass(f.type, Checked)}
