"""The run's closing message: each sink describes its own output through Sink.describe_output."""

from pathlib import Path

from hackmatrix.core.outputs import describe_outputs
from hackmatrix.sinks import validate_sink_specs

RUN = Path("/runs/ppo-007")


def _lines(specs, multi_seed=False, status="finished"):
    text = describe_outputs(RUN, validate_sink_specs(specs), RUN / "checkpoints/c.ckpt", status,
                            multi_seed)
    return text.splitlines()


def test_each_sink_names_its_files_with_its_options():
    lines = _lines(["console", {"type": "jsonl", "filename": "m.jsonl"},
                    {"type": "tensorboard", "subdir": "tb"}, "mlflow"])
    assert f"metrics:     {RUN / 'm.jsonl'}" in lines
    assert any(line.startswith(f"TensorBoard: tensorboard --logdir {RUN / 'tb'} ") for line in lines)
    assert any("mlflow ui --backend-store-uri sqlite:///mlflow.db" in line for line in lines)


def test_console_and_a_plugin_without_the_hook_add_no_line():
    assert _lines(["console", "csv"]) == [
        f"run directory: {RUN}  (config.yaml, run.json, checkpoints/)",
        f"last checkpoint: {RUN / 'checkpoints/c.ckpt'}",
    ]


def test_multi_seed_names_the_seed_directories_and_the_group_logdir():
    lines = _lines(["jsonl", "tensorboard"], multi_seed=True)
    assert not any(line.startswith("metrics:") for line in lines)
    assert f"TensorBoard: tensorboard --logdir {RUN}   (the seeds side by side)" in lines
    assert any(line.startswith("seeds:") for line in lines)


def test_a_remote_mlflow_server_is_named_by_its_address():
    lines = _lines([{"type": "mlflow", "tracking_uri": "http://mlflow.example:5000"}])
    assert "MLflow: open http://mlflow.example:5000 (experiment 'hackmatrix')" in lines


def test_an_unfinished_run_says_how_to_resume():
    assert _lines(["console"], status="interrupted")[-1] == (
        f"resume with:  hackmatrix train --resume {RUN}")
