"""The entry-point registry and spec validation: errors that name the problem and the fix."""

import sys

import pytest

from hackmatrix.errors import ConfigError, SinkError
from hackmatrix.sinks import Sink, available_sinks, create_sinks, validate_sink_specs
from hackmatrix.sinks.console import ConsoleSink
from hackmatrix.sinks.jsonl import JsonlSink

BUILT_INS = {"console", "jsonl", "tensorboard", "mlflow", "wandb"}


def test_built_ins_are_registered_under_the_group():
    sinks = available_sinks()
    assert BUILT_INS <= set(sinks)
    assert sinks["mlflow"].value == "hackmatrix.sinks.mlflow:MlflowSink"
    assert sinks["console"].load() is ConsoleSink


def test_unknown_type_lists_the_installed_sinks():
    with pytest.raises(ConfigError) as err:
        validate_sink_specs([{"type": "tensorbord"}])
    message = str(err.value)
    assert "unknown sink type 'tensorbord'" in message
    for name in BUILT_INS:
        assert name in message


def test_unknown_option_names_the_allowed_ones():
    with pytest.raises(ConfigError) as err:
        validate_sink_specs([{"type": "mlflow", "tracking_url": "sqlite:///x.db"}])
    assert "unknown option(s) tracking_url" in str(err.value)
    assert "allowed options: artifact_location, artifact_path, experiment, run_name, tags, " \
           "tracking_uri" in str(err.value)


def test_bad_option_values():
    with pytest.raises(ConfigError, match="option every must be an integer >= 1, got 'ten'"):
        validate_sink_specs([{"type": "console", "every": "ten"}])
    with pytest.raises(ConfigError, match="every must be an integer >= 1, got 0"):
        validate_sink_specs([{"type": "console", "every": 0}])
    with pytest.raises(ConfigError, match="mode must be one of offline, online, disabled"):
        validate_sink_specs([{"type": "wandb", "mode": "cloud"}])
    with pytest.raises(ConfigError, match="listed twice"):
        validate_sink_specs(["jsonl", {"type": "jsonl"}])
    with pytest.raises(ConfigError, match="needs a 'type'"):
        validate_sink_specs([{"every": 3}])
    with pytest.raises(ConfigError, match="must be a list"):
        validate_sink_specs("console")


def test_specs_are_filled_with_defaults():
    specs = validate_sink_specs(["console", {"type": "jsonl", "filename": "m.jsonl"}])
    assert specs == [
        {"type": "console", "every": 10, "total": None, "keys": None, "stream": "stdout",
         "progress_bar": None},
        {"type": "jsonl", "filename": "m.jsonl"},
    ]


def test_missing_extra_names_the_pip_command(monkeypatch):
    # A None entry in sys.modules makes `import mlflow` fail exactly as if it were not installed.
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(SinkError) as err:
        validate_sink_specs([{"type": "mlflow"}])
    assert "pip install 'hackmatrix[mlflow]'" in str(err.value)


def test_a_sink_that_fails_to_open_closes_the_others(make_run_info, tmp_path):
    info = make_run_info()
    with pytest.raises(SinkError, match="tensorboard"):
        # The run directory's parent is a file: TensorBoard cannot create its folder.
        blocker = tmp_path / "file"
        blocker.write_text("")
        create_sinks(["jsonl", {"type": "tensorboard", "subdir": "../file/tb"}], info)
    assert (info.directory / "metrics.jsonl").exists()


def test_create_sets_names_and_rejects_a_second_run_in_one_directory(make_run_info):
    sinks = create_sinks(["jsonl"], make_run_info())
    assert isinstance(sinks[0], JsonlSink) and isinstance(sinks[0], Sink)
    assert sinks[0].name == "jsonl"
    sinks[0].close("finished")
    with pytest.raises(SinkError, match="already holds a 'jsonl' run"):
        create_sinks(["jsonl"], make_run_info())
