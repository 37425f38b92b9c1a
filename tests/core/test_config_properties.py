"""Property-based: random overrides, config files and sink options are accepted or refused with one
line naming the key (or the file, or the sink); never another exception, never a hang."""

import dataclasses
import math

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hackmatrix.core.config import Config, all_keys, load_config
from hackmatrix.core.config.sections import SECTIONS
from hackmatrix.errors import ConfigError, SinkError
from hackmatrix.options import option_of
from hackmatrix.sinks.registry import validate_sink_specs

KEYS = all_keys()
# Small deadlines: a hang (a scan over every integer, an exponential repr) fails the example.
FAST = settings(max_examples=80, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
scalars = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.text(max_size=8), st.none(),
    st.sampled_from(["1e9", "1e30", "4000000000", "-1", "0", "[]", "{}", "~", "0x10"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
keys = st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=12))
# (dotted key, Option) of every field of every section.
OPTIONS = [(f"{prefix}.{f.name}", option_of(f)) for prefix, (_, cls) in SECTIONS.items()
           for f in dataclasses.fields(cls)]


def _yaml(value) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def _one_line(err: Exception) -> str:
    message = str(err)
    assert message, "empty message"
    assert "\n" not in message, message
    return message


@FAST
@given(key=keys, value=values)
def test_any_override_is_accepted_or_refused_by_key(key, value):
    override = f"{key}={_yaml(value)}"
    named = override.split("=", 1)[0].strip()
    try:
        config = load_config(None, [override])
    except ConfigError as err:
        message = _one_line(err)
        if named.isprintable():
            assert named in message, message
        return
    assert isinstance(config, Config)


@FAST
@given(key=st.sampled_from(KEYS), value=values)
def test_a_refused_value_of_a_known_key_names_the_key(key, value):
    try:
        load_config(None, [f"{key}={_yaml(value)}"])
    except ConfigError as err:
        assert key in _one_line(err)


@FAST
@given(body=st.one_of(st.dictionaries(keys, values, max_size=4),
                      st.dictionaries(st.sampled_from([k.split(".")[0] for k in KEYS]),
                                      st.dictionaries(st.text(max_size=12) | st.sampled_from(
                                          [k.split(".")[-1] for k in KEYS]), values, max_size=3),
                                      max_size=3),
                      values, st.binary(max_size=40)))
def test_any_config_file_is_accepted_or_refused_by_name(tmp_path_factory, body):
    path = tmp_path_factory.mktemp("cfg") / "config.yaml"
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(yaml.safe_dump(body))
    try:
        config = load_config(path)
    except ConfigError as err:
        assert str(path) in _one_line(err)
        return
    assert isinstance(config, Config)


@FAST
@given(entry=st.sampled_from(OPTIONS), value=values)
def test_every_option_parses_to_a_fixed_point_or_refuses(entry, value):
    key, option = entry
    try:
        parsed = option.parse(value, key)
    except ConfigError as err:
        assert _one_line(err).startswith(f"{key} must be ")
        return
    assert option.parse(parsed, key) == parsed


@FAST
@given(sink=st.sampled_from(["console", "jsonl", "tensorboard", "mlflow", "wandb"]),
       options=st.dictionaries(st.sampled_from(["every", "total", "keys", "stream", "filename",
                                                "subdir", "hparams", "tags", "mode",
                                                "finish_timeout_s", "experiment", "other"]),
                               values, max_size=3))
def test_any_sink_options_are_accepted_or_refused_by_sink(sink, options):
    try:
        validate_sink_specs([{"type": sink, **options}])
    except (ConfigError, SinkError) as err:
        assert f"sink '{sink}'" in _one_line(err)
