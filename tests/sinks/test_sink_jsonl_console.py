"""The JSONL and console sinks."""

import math

import pytest

from hackmatrix.cli import main
from hackmatrix.errors import ConfigError
from hackmatrix.metrics import MetricsPipeline
from hackmatrix.sinks import create_sinks, validate_sink_specs
from hackmatrix.sinks.console import ConsoleSink, format_duration, format_value
from hackmatrix.sinks.jsonl import read_jsonl


def test_jsonl_round_trip_with_null_for_nonfinite(make_run_info):
    info = make_run_info()
    sent = [{"train/a": 0.1 * s, "perf/env_steps": 1024.0 * s} for s in range(1, 6)]
    sent[2]["train/a"] = math.nan
    with MetricsPipeline(create_sinks(["jsonl"], info), report=lambda m: None) as pipeline:
        for step, point in enumerate(sent, start=1):
            pipeline.publish(step, point)
    rows = read_jsonl(info.directory / "metrics.jsonl")
    assert [row["step"] for row in rows] == [1, 2, 3, 4, 5]
    for row, point in zip(rows, sent):
        assert row["perf/env_steps"] == point["perf/env_steps"]
        assert row["train/a"] == (None if math.isnan(point["train/a"]) else point["train/a"])
    assert all(isinstance(row["time"], float) for row in rows)


def test_jsonl_resume_truncates_points_after_the_checkpoint(make_run_info):
    with MetricsPipeline(create_sinks(["jsonl"], make_run_info()), report=lambda m: None) as p:
        for step in range(1, 7):
            p.publish(step, {"x/v": float(step)})
    resumed = make_run_info(resumed=True, start_step=4)
    with MetricsPipeline(create_sinks(["jsonl"], resumed), report=lambda m: None) as p:
        for step in range(5, 9):
            p.publish(step, {"x/v": 10.0 * step})
    rows = read_jsonl(resumed.directory / "metrics.jsonl")
    assert [row["step"] for row in rows] == list(range(1, 9))
    assert [row["x/v"] for row in rows] == [1.0, 2.0, 3.0, 4.0, 50.0, 60.0, 70.0, 80.0]


def test_console_table_every_n_and_progress(make_run_info, capsys):
    sink = ConsoleSink(make_run_info(), every=2, keys=["train/a", "episode/return_mean"],
                       progress_bar=False)
    for step in range(1, 6):
        sink.log_metrics({"train/a": step / 4, "perf/sps": 1234.0, "perf/env_steps": 100.0 * step,
                          "health/approx_kl_ok": 0.0, "health/all_ok": 0.0}, step)
    sink.close("finished")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("run test-run (test-run-0001) in ")
    headers = [line for line in lines if "env steps" in line]
    assert len(headers) == 3  # updates 1, 2 and 4
    assert headers[0].startswith("[##----------------------] 1/10  10.0% | 100 env steps | "
                                 "1,234 sps | ETA ")
    assert lines[2] == "  train/a                        0.2500   episode/return_mean                 -"
    assert "  health: failing approx_kl" in lines
    assert lines[-1] == "run test-run finished at update 5"


def test_console_formats():
    assert format_value(0.5) == "     0.5000"
    assert format_value(123456.0) == "  1.235e+05"
    assert format_value(math.nan).strip() == "nan"
    assert format_value(0.0) == "     0.0000"
    assert format_duration(42) == "42s"
    assert format_duration(185) == "3m05s"
    assert format_duration(3720) == "1h02m"


@pytest.mark.parametrize("filename", ["/etc/passwd", "../../x.jsonl", "a/../../x.jsonl", ""])
def test_jsonl_file_must_stay_inside_the_run_directory(filename):
    with pytest.raises(ConfigError, match="relative path inside the run directory"):
        validate_sink_specs([{"type": "jsonl", "filename": filename}])


@pytest.mark.parametrize("filename", ["/etc/passwd", "../../x.jsonl"])
def test_train_refuses_a_jsonl_file_outside_the_run_before_anything_is_made(
        filename, tmp_path, capsys):
    runs = tmp_path / "a" / "runs"
    assert main(["train", f"sinks=[{{type: jsonl, filename: '{filename}'}}]",
                 f"run.runs_dir={runs}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hackmatrix train: error: sink 'jsonl': option filename must be a "
                          "relative path inside the run directory") and err.count("\n") == 1
    # Refused before the run directory (let alone the compile): nothing was written anywhere.
    assert not runs.exists() and not (runs.parent / "x.jsonl").exists()
