"""The MLflow sink on an embedded sqlite store, read back with MlflowClient."""

import logging
import math
import socket
import subprocess
import sys

import pytest
from mlflow.tracking import MlflowClient

from hackmatrix.errors import SinkError
from hackmatrix.metrics import MetricsPipeline
from hackmatrix.sinks import create_sinks
from hackmatrix.sinks.mlflow import MlflowNames
from hackmatrix.sinks.state import read_sink_state, write_sink_state


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One sqlite tracking store for the module (creating its tables takes seconds)."""
    root = tmp_path_factory.mktemp("mlflow")
    return f"sqlite:///{root}/mlflow.db", root


def spec(store, experiment):
    uri, root = store
    return {"type": "mlflow", "tracking_uri": uri, "experiment": experiment,
            "artifact_location": str(root / experiment)}


def history(store, run_id, key):
    return [(m.step, m.value) for m in MlflowClient(store[0]).get_metric_history(run_id, key)]


def test_round_trip_params_names_and_status(store, make_run_info, tmp_path):
    info = make_run_info()
    sinks = create_sinks([spec(store, "round-trip")], info)
    run_id = sinks[0].run_id
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "params.bin").write_bytes(b"\x00\x01")
    with MetricsPipeline(sinks, report=lambda m: None) as pipeline:
        for step in range(1, 6):
            pipeline.publish(step, {"train/approx_kl": 0.01 * step,
                                    "actions/program/SIPH+": step / 7,
                                    "perf/env_steps": 1024.0 * step,
                                    "train/value_loss": math.nan if step == 3 else 0.5})
        pipeline.log_artifact(checkpoint)
    client = MlflowClient(store[0])
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "test-run"
    assert run.data.params == {"ppo.learning_rate": "0.00025", "env.num_envs": "8",
                               "network.hidden_sizes": "[64, 64]", "run.name": "test"}
    assert run.data.tags["hackmatrix.run_id"] == "test-run-0001"
    assert run.data.tags["mlflow.source.git.commit"] == "abc123"
    assert history(store, run_id, "train/approx_kl") == [(s, 0.01 * s) for s in range(1, 6)]
    assert history(store, run_id, "actions/program/SIPH_") == [(s, s / 7) for s in range(1, 6)]
    assert history(store, run_id, "perf/env_steps") == [(s, 1024.0 * s) for s in range(1, 6)]
    losses = history(store, run_id, "train/value_loss")
    assert [s for s, _ in losses] == [1, 2, 3, 4, 5] and math.isnan(losses[2][1])
    assert [a.path for a in client.list_artifacts(run_id, "checkpoints/ckpt")] == [
        "checkpoints/ckpt/params.bin"]


def test_name_collisions_are_detected(caplog):
    names = MlflowNames()
    with caplog.at_level(logging.WARNING, logger="hackmatrix.sinks.mlflow"):
        assert names("x/a+b") == "x/a_b"
        assert names("x/a_b") == "x/a_b_2"
        assert names("x/a#b") == "x/a_b_3"
        assert names("x/a+b") == "x/a_b"
    assert len(caplog.records) == 2 and "both become 'x/a_b'" in caplog.records[0].message
    assert MlflowNames.valid_form("a//b") == "a__b"
    assert MlflowNames(names.names)("x/a_b") == "x/a_b_2"  # the mapping survives a resume


def test_resume_continues_the_same_run_with_contiguous_steps(store, make_run_info):
    sinks = create_sinks([spec(store, "resume")], make_run_info())
    run_id = sinks[0].run_id
    with MetricsPipeline(sinks, report=lambda m: None) as pipeline:
        for step in range(1, 5):
            pipeline.publish(step, {"x/v": float(step)})
    assert MlflowClient(store[0]).get_run(run_id).info.status == "FINISHED"
    resumed = create_sinks([spec(store, "resume")], make_run_info(resumed=True, start_step=4))
    assert resumed[0].run_id == run_id
    assert MlflowClient(store[0]).get_run(run_id).info.status == "RUNNING"
    with pytest.raises(KeyboardInterrupt), MetricsPipeline(resumed, report=lambda m: None) as p:
        for step in range(5, 9):
            p.publish(step, {"x/v": float(step)})
        raise KeyboardInterrupt
    client = MlflowClient(store[0])
    assert history(store, run_id, "x/v") == [(s, float(s)) for s in range(1, 9)]
    assert client.get_run(run_id).info.status == "KILLED"
    experiment = client.get_experiment_by_name("resume")
    assert len(client.search_runs([experiment.experiment_id])) == 1


def test_resume_of_a_run_missing_from_the_store_names_the_fix(store, make_run_info):
    info = make_run_info()
    create_sinks([spec(store, "moved")], info)[0].close("finished")
    # As if the run had been logged to another store: its id is unknown to this one.
    state = read_sink_state(info.directory, "mlflow")
    write_sink_state(info.directory, "mlflow", dict(state, run_id="0" * 32))
    with pytest.raises(SinkError, match="is not in the tracking store"):
        create_sinks([spec(store, "moved")], make_run_info(resumed=True, start_step=0))


OPEN_ONE = """
import sys
from pathlib import Path
from hackmatrix.sinks import RunInfo, create_sinks
[sink] = create_sinks([{"type": "mlflow", "tracking_uri": sys.argv[1]}],
                      RunInfo(name=sys.argv[2], run_id=sys.argv[2], directory=Path(sys.argv[2])))
sink.close("finished")
"""


def test_two_runs_opening_a_fresh_store_at_once_both_work(tmp_path):
    uri = f"sqlite:///{tmp_path}/fresh.db"
    runs = [subprocess.Popen([sys.executable, "-c", OPEN_ONE, uri, str(tmp_path / f"run{i}")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for i in range(2)]
    for run in runs:
        output, _ = run.communicate(timeout=300)
        assert run.returncode == 0, output
    client = MlflowClient(uri)
    [experiment] = [e for e in client.search_experiments() if e.name == "hackmatrix"]
    assert len(client.search_runs([experiment.experiment_id])) == 2


def test_an_unreachable_tracking_server_fails_in_seconds(make_run_info):
    with socket.socket() as listener:  # a port that nothing listens on once this closes
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    spec = {"type": "mlflow", "tracking_uri": f"http://127.0.0.1:{port}"}
    with pytest.raises(SinkError, match=f"tracking server http://127.0.0.1:{port} is unreachable"):
        create_sinks([spec], make_run_info())
