"""Config loading, overrides, validation errors and auto-scaling."""

from pathlib import Path

import pytest

from hackmatrix.core import auto_scale_for_batch_size, load_config
from hackmatrix.core.autoscale import describe_auto_scale
from hackmatrix.core.config import (
    Config,
    batch_size,
    gradient_steps,
    minibatch_size,
    nearest_divisor,
    num_updates,
    to_dict,
)
from hackmatrix.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_YAML = ROOT / "config.yaml"


def test_config_yaml_is_the_builtin_default():
    config = load_config(DEFAULT_YAML)
    assert config == Config()
    assert config.explicit == frozenset()
    assert config.ppo.ent_coef == 0.01 and config.ppo.learning_rate == 1.5e-3
    assert config.network.hidden_sizes == (256, 256)


def test_every_key_of_config_yaml_has_a_comment():
    for line in DEFAULT_YAML.read_text().splitlines():
        if line.startswith("  ") and ":" in line and not line.strip().startswith(("#", "- ")):
            assert "#" in line, line


def test_derived_values_are_functions():
    config = load_config(DEFAULT_YAML, ["env.num_envs=64", "ppo.total_timesteps=100000"])
    assert batch_size(config) == 64 * 128
    assert minibatch_size(config) == 64 * 128 // 4
    assert num_updates(config) == 100000 // 8192 == 12
    assert gradient_steps(config) == 16


def test_overrides_are_yaml_scalars_and_explicit():
    config = load_config(DEFAULT_YAML, [
        "ppo.ent_coef=0.2", "env.num_envs=512", "ppo.learning_rate=1e-4",
        "network.hidden_sizes=[64, 32]", "ppo.anneal_lr=false", "sinks=[console]"])
    assert config.ppo.ent_coef == 0.2
    assert config.env.num_envs == 512
    assert config.ppo.learning_rate == 1e-4
    assert config.network.hidden_sizes == (64, 32)
    assert config.ppo.anneal_lr is False
    assert config.sinks == ("console",)
    assert config.explicit == {"ppo.ent_coef", "env.num_envs", "ppo.learning_rate",
                               "network.hidden_sizes", "ppo.anneal_lr", "sinks"}


def test_other_file_values_that_differ_are_explicit(tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text("ppo:\n  num_minibatches: 8\n  gamma: 0.99\nenv:\n  num_envs: 512\n")
    config = load_config(path)
    assert config.explicit == {"ppo.num_minibatches", "env.num_envs"}
    assert to_dict(config)["ppo"]["num_minibatches"] == 8


@pytest.mark.parametrize("override, words", [
    ("ppo.ent_coeff=0.1", ["unknown config key 'ppo.ent_coeff'", "did you mean 'ppo.ent_coef'"]),
    ("pop.gamma=0.9", ["unknown config key 'pop.gamma'", "did you mean 'ppo.gamma'"]),
    ("env.num_envs=abc", ["'env.num_envs'", "an integer", "'abc'"]),
    ("env.num_envs=2.5", ["'env.num_envs'", "an integer", "2.5"]),
    ("ppo.anneal_lr=3", ["'ppo.anneal_lr'", "true or false", "3"]),
    ("ppo.gamma=1.5", ["'ppo.gamma'", "(0, 1]", "1.5"]),
    ("env.num_envs=0", ["'env.num_envs'", ">= 1", "0"]),
    ("network.kind=transformer", ["'network.kind'", "['mlp', 'grid']", "'transformer'"]),
    ("ppo.num_minibatches=7", ["ppo.num_minibatches=7", "must divide", "32768",
                               "a divisor of 32768, e.g. 8"]),
    ("ppo.total_timesteps=1000", ["ppo.total_timesteps=1000", "at least 32768"]),
    ("ppo.gamma", ["section.key=value"]),
    ("ppo.update_epochs=1000000000", ["'ppo.update_epochs'", "[1, 10000]"]),
    ("run.seed=100000000000000000000000", ["'run.seed'", "fits in 64 bits"]),
    ("run.sinks_failure=ignore", ["'run.sinks_failure'", "['fail', 'warn']"]),
])
def test_bad_overrides_name_key_value_and_what_is_allowed(override, words):
    with pytest.raises(ConfigError) as err:
        load_config(DEFAULT_YAML, [override])
    for word in words:
        assert word in str(err.value)


def test_bad_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("ppo:\n  learning_rat: 0.1\n")
    with pytest.raises(ConfigError, match="did you mean 'ppo.learning_rate'"):
        load_config(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
    path.write_bytes(b"ppo:\n  gamma: 0.9\n# caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_config(path)
    path.write_text("ppo:\n  gamma: 0.9\n  ent_coef: 0.1\n  gamma: 0.8\n")
    with pytest.raises(ConfigError, match="key 'gamma' appears twice \\(line 4\\)"):
        load_config(path)


def test_nearest_divisor_of_a_huge_env_count_is_instant():
    assert nearest_divisor(4_000_000_000, 1000) == 1000
    assert nearest_divisor(2**31 - 1, 3000.0) == 1  # a prime


def _scaled(num_envs, *extra):
    return auto_scale_for_batch_size(load_config(DEFAULT_YAML, [f"env.num_envs={num_envs}",
                                                                *extra]))


def test_auto_scale_reference_is_unchanged():
    config = _scaled(256)
    assert (config.ppo.num_minibatches, config.ppo.update_epochs) == (4, 4)
    assert config.ppo.learning_rate == 1.5e-3 and config.autoscaled == ()
    assert describe_auto_scale(config) == ""


def test_auto_scale_512():
    config = _scaled(512)
    assert (config.ppo.num_minibatches, config.ppo.update_epochs) == (8, 2)
    assert minibatch_size(config) == 8192 and gradient_steps(config) == 16
    assert config.ppo.learning_rate == 1.5e-3
    assert config.autoscaled == (("ppo.num_minibatches", 4, 8), ("ppo.update_epochs", 4, 2))


def test_auto_scale_2048():
    config = _scaled(2048)
    assert (config.ppo.num_minibatches, config.ppo.update_epochs) == (32, 2)
    assert minibatch_size(config) == 8192 and gradient_steps(config) == 64
    assert config.ppo.learning_rate == pytest.approx(3.75e-4, rel=1e-12)
    assert [c[0] for c in config.autoscaled] == ["ppo.num_minibatches", "ppo.update_epochs",
                                                 "ppo.learning_rate"]
    assert "ppo.learning_rate 0.0015 -> 0.000375" in describe_auto_scale(config)


def test_auto_scale_4096():
    config = _scaled(4096)
    assert (config.ppo.num_minibatches, config.ppo.update_epochs) == (64, 2)
    assert gradient_steps(config) == 128
    assert config.ppo.learning_rate == pytest.approx(1.875e-4, rel=1e-12)


def test_auto_scale_leaves_explicit_values_alone():
    config = _scaled(2048, "ppo.update_epochs=3", "ppo.learning_rate=1e-4")
    assert (config.ppo.num_minibatches, config.ppo.update_epochs) == (32, 3)
    assert config.ppo.learning_rate == 1e-4
    assert config.autoscaled == (("ppo.num_minibatches", 4, 32),)
    off = _scaled(2048, "ppo.auto_scale=false")
    assert (off.ppo.num_minibatches, off.ppo.update_epochs) == (4, 4)


def test_metrics_health_section_is_nested_and_typed(tmp_path):
    config = load_config(DEFAULT_YAML, ["metrics.health.entropy_min=0.5",
                                        "metrics.health.stop_when_unhealthy=true"])
    assert config.health.entropy_min == 0.5 and config.health.stop_when_unhealthy is True
    assert to_dict(config)["metrics"]["health"]["entropy_min"] == 0.5
    with pytest.raises(ConfigError, match="did you mean 'metrics.health.stall_window'"):
        load_config(DEFAULT_YAML, ["metrics.health.stall_windw=3"])
    with pytest.raises(ConfigError, match="'metrics.health.stall_window' must be an integer >= 2"):
        load_config(DEFAULT_YAML, ["metrics.health.stall_window=1"])
    path = tmp_path / "nested.yaml"
    path.write_text("metrics:\n  healt:\n    entropy_min: 1\n")
    with pytest.raises(ConfigError, match="unknown config key 'metrics.healt'"):
        load_config(path)
