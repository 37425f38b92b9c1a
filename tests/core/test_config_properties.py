"""Property-based: random overrides and config files are accepted or refused with one line naming
the key (or the file); never another exception, never a hang."""

import math

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hackmatrix.core.config import Config, all_keys, load_config
from hackmatrix.errors import ConfigError

KEYS = all_keys()
FAST = settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
scalars = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.text(max_size=8), st.sampled_from(["1e9", "4000000000", "[]", "{}", "~"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
keys = st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=12))


def _yaml(value) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def _refused_in_one_line(err: ConfigError, *names: str) -> None:
    message = str(err)
    assert message and "\n" not in message, message
    assert any(name in message for name in names) or any(k in message for k in KEYS), message


@FAST
@given(key=keys, value=values)
def test_any_override_is_accepted_or_refused_by_name(key, value):
    override = f"{key}={_yaml(value)}"
    try:
        assert isinstance(load_config(None, [override]), Config)
    except ConfigError as err:
        _refused_in_one_line(err, key, override, repr(override), "sink")


@FAST
@given(body=st.one_of(st.dictionaries(keys, values, max_size=4), values,
                      st.binary(max_size=40)))
def test_any_config_file_is_accepted_or_refused_by_name(tmp_path_factory, body):
    path = tmp_path_factory.mktemp("cfg") / "config.yaml"
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(yaml.safe_dump(body))
    try:
        assert isinstance(load_config(path), Config)
    except ConfigError as err:
        _refused_in_one_line(err, str(path))
