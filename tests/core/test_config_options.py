"""The one validation mechanism (hackmatrix.options): config sections, health thresholds, sinks."""

import dataclasses

import pytest

from hackmatrix.core.config import load_config
from hackmatrix.core.config.sections import SECTIONS, EnvConfig, NetworkConfig
from hackmatrix.env.curriculum import Curriculum
from hackmatrix.errors import ConfigError
from hackmatrix.metrics.health import HealthConfig
from hackmatrix.options import INT32_MAX, Option, option_of
from hackmatrix.sinks.registry import validate_sink_specs

FIELDS = [(prefix, f) for prefix, (_, cls) in SECTIONS.items() for f in dataclasses.fields(cls)]


@pytest.mark.parametrize("option, words", [
    (Option((int,), 1, "", low=1), "an integer >= 1"),
    (Option((int,), 1, "", low=0, high=INT32_MAX), "an integer in [0, 2147483647]"),
    (Option((float,), 1.0, "", low=0.0, open_low=True, high=1.0), "a number in (0, 1]"),
    (Option((float,), 1.0, "", low=0.0, open_low=True), "a number > 0"),
    (Option((float, type(None)), None, ""), "a number or null"),
    (Option((str,), "a", "", choices=("a", "b")), "one of a, b"),
    (Option((tuple,), (1,), "", items=Option((int,), 1, "", low=1, high=9), max_items=3),
     "a list of 1 to 3 integers in [1, 9]"),
    (Option((list,), [], "", items=Option((str,), "", ""), min_items=0), "a list of strings"),
])
def test_what_an_option_allows_in_words(option, words):
    assert option.allowed() == words


def test_a_yaml_1_1_number_string_becomes_an_integer():
    assert Option((int,), 1, "").parse("1e3", "k") == 1000


def test_a_fraction_is_not_an_integer():
    with pytest.raises(ConfigError, match="k must be an integer, got 2.5"):
        Option((int,), 1, "").parse(2.5, "k")


def test_true_is_not_an_integer():
    with pytest.raises(ConfigError, match="k must be an integer, got true"):
        Option((int,), 1, "").parse(True, "k")


def test_an_integer_is_a_number():
    assert Option((float,), 1.0, "").parse(2, "k") == 2.0


def test_an_integer_too_big_for_a_float_is_refused():
    with pytest.raises(ConfigError, match="k must be a number, got 1000"):
        Option((float,), 1.0, "").parse(10**400, "k")


def test_infinity_is_refused():
    with pytest.raises(ConfigError, match="got inf"):
        Option((float,), 1.0, "").parse(float("inf"), "k")


def test_big_integers_stay_exact():
    assert Option((int,), 1, "").parse(2**63 + 1, "k") == 2**63 + 1


def test_a_list_becomes_a_tuple_of_checked_items():
    option = Option((tuple,), (1,), "", items=Option((int,), 1, ""))
    assert option.parse([1, "2"], "k") == (1, 2)


def test_a_refusal_names_the_default():
    with pytest.raises(ConfigError, match=r"\(the default is \[256, 256\]\)"):
        NetworkConfig(hidden_sizes=())


def test_a_section_checks_its_fields_when_built():
    with pytest.raises(ConfigError, match="config key 'env.num_envs' must be an integer in"):
        EnvConfig(num_envs=0)


def test_a_section_holds_parsed_values():
    assert NetworkConfig(hidden_sizes=[64, "32"]).hidden_sizes == (64, 32)


def test_the_curriculum_checks_its_fields_when_built():
    with pytest.raises(ConfigError, match="config key 'curriculum.share' must be a number in"):
        Curriculum(share=2.0)


def test_health_thresholds_are_checked_once_the_same_way_everywhere():
    with pytest.raises(ConfigError) as direct:
        HealthConfig(stall_window=1)
    with pytest.raises(ConfigError) as override:
        load_config(None, ["metrics.health.stall_window=1"])
    assert str(direct.value) == str(override.value)


def test_sink_options_are_checked_by_the_same_option():
    with pytest.raises(ConfigError, match="sink 'console': option every must be an integer >= 1, "
                                          "got 0 \\(the default is 10\\)"):
        validate_sink_specs([{"type": "console", "every": 0}])


def test_a_sink_option_list_checks_its_items():
    with pytest.raises(ConfigError, match="option tags must be a list of strings, got \\[1\\]"):
        validate_sink_specs([{"type": "wandb", "tags": [1]}])


@pytest.mark.parametrize("prefix, field", FIELDS, ids=[f"{p}.{f.name}" for p, f in FIELDS])
def test_every_config_field_has_an_option_with_a_one_line_doc(prefix, field):
    doc = option_of(field).doc
    assert doc.strip()
    assert "\n" not in doc


@pytest.mark.parametrize("prefix, field", FIELDS, ids=[f"{p}.{f.name}" for p, f in FIELDS])
def test_every_default_passes_its_own_check(prefix, field):
    option = option_of(field)
    assert option.parse(option.default, f"{prefix}.{field.name}") == option.default
