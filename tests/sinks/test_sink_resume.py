"""Two halves of one run, the second resumed, read back from every backend as one run."""

from mlflow.tracking import MlflowClient
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from hackmatrix.metrics import MetricsPipeline
from hackmatrix.sinks import create_sinks
from hackmatrix.sinks.jsonl import read_jsonl
from hackmatrix.sinks.wandb_log import read_run_logs


def test_two_halves_continue_the_same_run_in_every_backend(make_run_info, tmp_path, capsys):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    specs = ["console", "jsonl", "tensorboard", "wandb",
             {"type": "mlflow", "tracking_uri": uri, "artifact_location": str(tmp_path / "art")}]

    def half(info, steps, status):
        sinks = create_sinks(specs, info)
        pipeline = MetricsPipeline(sinks, report=lambda m: None)
        for step in steps:
            pipeline.publish(step, {"train/entropy": step / 4, "perf/env_steps": 256.0 * step})
        pipeline.close(status)
        return {sink.name: sink for sink in sinks}

    first = half(make_run_info(), range(1, 6), "interrupted")
    second = half(make_run_info(resumed=True, start_step=5), range(6, 11), "finished")
    directory = make_run_info().directory
    expected = [(s, s / 4) for s in range(1, 11)]

    assert [(r["step"], r["train/entropy"]) for r in read_jsonl(directory / "metrics.jsonl")] \
        == expected

    accumulator = EventAccumulator(str(directory / "tensorboard"))
    accumulator.Reload()
    assert [(e.step, e.value) for e in accumulator.Scalars("train/entropy")] == expected

    assert first["mlflow"].run_id == second["mlflow"].run_id
    client = MlflowClient(uri)
    metric = client.get_metric_history(first["mlflow"].run_id, "train/entropy")
    assert [(m.step, m.value) for m in metric] == expected
    assert client.get_run(first["mlflow"].run_id).info.status == "FINISHED"

    runs = read_run_logs(directory)
    assert [run["run_id"] for run in runs] == ["test-run-0001", "test-run-0001"]
    rows = runs[0]["history"] + runs[1]["history"]
    assert [(row["update"], row["train/entropy"]) for row in rows] == expected
    assert [row["_step"] for row in rows] == list(range(10))
    assert [run["exit_code"] for run in runs] == [130, 0]

    out = capsys.readouterr().out
    assert "resumed after update 5" in out and "run test-run finished at update 10" in out


def test_points_logged_after_the_checkpoint_are_not_doubled(make_run_info, tmp_path):
    """A run killed at update 7 after its checkpoint at 5, resumed from 5, recomputing 6-7."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    specs = ["jsonl", "tensorboard",
             {"type": "mlflow", "tracking_uri": uri, "artifact_location": str(tmp_path / "art")}]

    def half(info, steps):
        sinks = create_sinks(specs, info)
        pipeline = MetricsPipeline(sinks, report=lambda m: None)
        for step in steps:
            pipeline.publish(step, {"train/entropy": step / 4})
        pipeline.close("interrupted")
        return {sink.name: sink for sink in sinks}

    first = half(make_run_info(), range(1, 8))
    directory = make_run_info().directory
    with open(directory / "metrics.jsonl", "a") as torn:
        torn.write('{"step": 8, "train/ent')  # the kill came in the middle of a line
    half(make_run_info(resumed=True, start_step=5), range(6, 11))
    expected = [(s, s / 4) for s in range(1, 11)]

    assert [(r["step"], r["train/entropy"]) for r in read_jsonl(directory / "metrics.jsonl")] \
        == expected
    accumulator = EventAccumulator(str(directory / "tensorboard"))
    accumulator.Reload()
    assert [(e.step, e.value) for e in accumulator.Scalars("train/entropy")] == expected
    metric = MlflowClient(uri).get_metric_history(first["mlflow"].run_id, "train/entropy")
    assert sorted((m.step, m.value) for m in metric) == expected
