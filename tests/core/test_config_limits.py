"""Absurd values are refused before anything compiles, in one line naming key, value and limits."""

import pytest

from hackmatrix.core.config import load_config, seed_list
from hackmatrix.errors import ConfigError

# override -> (the key, the value as the message quotes it, the allowed range).
ABSURD = {
    "ppo.total_timesteps=1e30": ("'ppo.total_timesteps'", "'1e30'", "[1, 1000000000000000]"),
    "network.hidden_sizes=[4000000000]": ("'network.hidden_sizes'", "[4000000000]",
                                          "a list of 1 to 16 integers in [1, 16384]"),
    "network.conv_channels=[4000000000]": ("'network.conv_channels'", "[4000000000]",
                                           "a list of 1 to 16 integers in [1, 4096]"),
    "run.seeds=100000000": ("'run.seeds'", "100000000", "an integer in [1, 1024]"),
    "env.max_steps_in_episode=4000000000": ("'env.max_steps_in_episode'", "4000000000",
                                            "[1, 2147483647]"),
    "eval.max_steps=4000000000": ("'eval.max_steps'", "4000000000", "[1, 2147483647]"),
    "ppo.update_epochs=1e9": ("'ppo.update_epochs'", "'1e9'", "[1, 10000]"),
    "env.num_envs=4000000000": ("'env.num_envs'", "4000000000", "[1, 1048576]"),
    "ppo.num_steps=4000000000": ("'ppo.num_steps'", "4000000000", "[1, 65536]"),
    "run.seed=18446744073709551616": ("'run.seed'", "18446744073709551616", "[0, 4294967295]"),
    "run.seed=-1": ("'run.seed'", "-1", "[0, 4294967295]"),
    "eval.seed=4294967296": ("'eval.seed'", "4294967296", "[0, 4294967295]"),
    "run.updates_per_chunk=1000000000": ("'run.updates_per_chunk'", "1000000000", "[1, 10000]"),
    "eval.episodes=4000000000": ("'eval.episodes'", "4000000000", "[1, 1048576]"),
    "metrics.health.stall_window=1000000000000": ("'metrics.health.stall_window'",
                                                  "1000000000000", "[2, 1000000]"),
    "ppo.learning_rate=1e300": ("'ppo.learning_rate'", "'1e300'", "(0, 3.4e+38]"),
}


@pytest.mark.parametrize("override", ABSURD)
def test_absurd_value_is_refused_naming_the_key(override):
    with pytest.raises(ConfigError) as err:
        load_config(None, [override])
    assert ABSURD[override][0] in str(err.value)


@pytest.mark.parametrize("override", ABSURD)
def test_absurd_value_is_quoted(override):
    with pytest.raises(ConfigError) as err:
        load_config(None, [override])
    assert f"got {ABSURD[override][1]}" in str(err.value)


@pytest.mark.parametrize("override", ABSURD)
def test_absurd_value_gets_the_allowed_range(override):
    with pytest.raises(ConfigError) as err:
        load_config(None, [override])
    assert ABSURD[override][2] in str(err.value)


@pytest.mark.parametrize("override", ABSURD)
def test_absurd_value_gets_the_default_as_the_fix(override):
    with pytest.raises(ConfigError) as err:
        load_config(None, [override])
    assert "(the default is " in str(err.value)


def test_the_largest_seed_the_prng_tells_apart_is_accepted():
    assert load_config(None, ["run.seed=4294967295"]).run.seed == 4294967295


def test_integers_above_2_to_the_53_are_not_rounded():
    with pytest.raises(ConfigError, match="got 9223372036854775807 "):
        load_config(None, ["run.seed=9223372036854775807"])


def test_a_seed_range_past_uint32_is_refused():
    with pytest.raises(ConfigError, match=r"run.seed=4294967295 with run.seeds=2 reaches seed "
                                          r"4294967296.*allowed: run.seed at most 4294967294"):
        load_config(None, ["run.seed=4294967295", "run.seeds=2"])


def test_a_seed_range_ending_at_uint32_max_is_accepted():
    config = load_config(None, ["run.seed=4294967294", "run.seeds=2"])
    assert seed_list(config) == (4294967294, 4294967295)


def test_repeated_seeds_are_refused():
    with pytest.raises(ConfigError, match=r"'run.seeds' .* distinct .* got \[3, 3\]"):
        load_config(None, ["run.seeds=[3, 3]"])


def test_a_batch_beyond_int32_is_refused():
    with pytest.raises(ConfigError, match="exceeds 2147483647 \\(int32 indices"):
        load_config(None, ["env.num_envs=1048576", "ppo.num_steps=65536"])


def test_more_gradient_steps_than_int32_are_refused():
    with pytest.raises(ConfigError, match="gradient steps \\(updates x ppo.update_epochs x ppo.num_minibatches\\), more than 2147483647"):
        load_config(None, ["ppo.total_timesteps=1000000000000000", "ppo.auto_scale=false"])


def test_the_refusal_names_the_largest_run_allowed():
    with pytest.raises(ConfigError, match="allowed: ppo.total_timesteps at most 2199023239168"):
        load_config(None, ["ppo.total_timesteps=1000000000000000"])


def test_a_directory_as_config_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="is a directory; name a YAML file"):
        load_config(tmp_path)


def test_a_non_utf8_config_file_is_refused(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"ppo:\n  gamma: 0.9\n# caf\xe9\n")
    with pytest.raises(ConfigError, match="is not UTF-8 text \\(byte 23\\); save it as UTF-8"):
        load_config(path)


def test_a_duplicate_yaml_key_is_refused(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("env:\n  num_envs: 8\nenv:\n  num_envs: 16\n")
    with pytest.raises(ConfigError, match="key 'env' appears twice \\(line 3\\)"):
        load_config(path)


def test_a_duplicate_key_in_an_override_is_refused():
    with pytest.raises(ConfigError, match="key 'jsonl' appears twice"):
        load_config(None, ["sinks={jsonl: {}, jsonl: {}}"])


def test_a_list_as_yaml_key_is_refused(tmp_path):
    path = tmp_path / "listkey.yaml"
    path.write_text("? [ppo, gamma]\n: 0.9\n")
    with pytest.raises(ConfigError, match="a key at line 1 is a list; keys are plain names"):
        load_config(path)


def test_too_deep_nesting_is_refused(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 5000 + "]" * 5000)
    with pytest.raises(ConfigError, match="nests lists or mappings too deeply"):
        load_config(path)


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path):
    levels = ["&a [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for name, previous in zip("bcdefgh", "abcdefg", strict=True):
        levels.append(f"&{name} [{', '.join([f'*{previous}'] * 9)}]")
    path = tmp_path / "bomb.yaml"
    path.write_text(f"run:\n  seeds: [{', '.join(levels)}]\n")  # 9**8 leaves if expanded
    with pytest.raises(ConfigError, match="'run.seeds' must be"):
        load_config(path)
