"""The wandb sink in offline mode, read back from the offline run directory."""

import math

import pytest
from wandb_records import read_offline_runs

from hackmatrix.errors import ConfigError
from hackmatrix.metrics import MetricsPipeline
from hackmatrix.sinks import create_sinks, validate_sink_specs


def log(info, steps, value, artifact=None):
    with MetricsPipeline(create_sinks(["wandb"], info), report=lambda m: None) as pipeline:
        for step in steps:
            pipeline.publish(step, {"train/entropy": value(step),
                                    "perf/env_steps": float(step * 1024)})
        if artifact is not None:
            pipeline.log_artifact(artifact)


def test_offline_round_trip_config_and_artifact(make_run_info, tmp_path):
    info = make_run_info()
    checkpoint = tmp_path / "checkpoint.bin"
    checkpoint.write_bytes(b"weights")
    log(info, range(1, 6), lambda step: step / 3, artifact=checkpoint)
    (run,) = read_offline_runs(info.directory)
    assert run["run_id"] == "test-run-0001"
    assert run["config"]["ppo.learning_rate"] == 0.00025
    assert run["config"]["network.hidden_sizes"] == [64, 64]
    assert run["config"]["git_commit"] == "abc123"
    rows = run["history"]
    assert [row["update"] for row in rows] == [1, 2, 3, 4, 5]
    assert [row["_step"] for row in rows] == [0, 1, 2, 3, 4]
    assert [row["train/entropy"] for row in rows] == [s / 3 for s in range(1, 6)]
    assert [row["perf/env_steps"] for row in rows] == [s * 1024 for s in range(1, 6)]
    assert all("health/entropy_ok" in row for row in rows)
    assert run["exit_code"] == 0
    assert run["artifacts"] == [("test-run-0001-checkpoint", "checkpoint")]


def test_nonfinite_values_are_kept(make_run_info):
    info = make_run_info()
    log(info, range(1, 3), lambda step: math.nan if step == 2 else 1.0)
    (run,) = read_offline_runs(info.directory)
    assert run["history"][0]["train/entropy"] == 1.0
    assert math.isnan(run["history"][1]["train/entropy"])


def test_resume_keeps_the_run_id_and_never_reuses_a_step(make_run_info):
    log(make_run_info(), range(1, 7), float)
    # Resumed from the checkpoint of update 4: updates 5 and 6 are logged a second time, at new
    # wandb steps, so that none of them is dropped; on the charts (x = env steps) they overlay.
    log(make_run_info(resumed=True, start_step=4), range(5, 11), lambda step: 10.0 * step)
    first, second = read_offline_runs(make_run_info().directory)
    assert first["run_id"] == second["run_id"] == "test-run-0001"
    rows = first["history"] + second["history"]
    assert [row["_step"] for row in rows] == list(range(12))
    assert [row["update"] for row in second["history"]] == list(range(5, 11))
    assert [row["train/entropy"] for row in second["history"]] == [
        10.0 * s for s in range(5, 11)]


def test_options_are_checked():
    with pytest.raises(ConfigError, match="finish_timeout_s must be positive"):
        validate_sink_specs([{"type": "wandb", "finish_timeout_s": 0}])
    assert validate_sink_specs([{"type": "wandb"}])[0]["mode"] == "offline"


def test_an_episode_gif_and_an_export_reach_the_offline_run(make_run_info, tmp_path):
    from PIL import Image

    info = make_run_info()
    gif = tmp_path / "update_00000002.gif"
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "blue")]
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    export = tmp_path / "export"
    export.mkdir()
    (export / "policy.json").write_text("{}")
    with MetricsPipeline(create_sinks(["wandb"], info), report=lambda m: None) as pipeline:
        pipeline.publish(2, {"train/entropy": 1.0, "perf/env_steps": 2048.0})
        pipeline.log_video("eval/episode", gif, 2)
        pipeline.log_export(export, "final")
    (run,) = read_offline_runs(info.directory)
    assert run["history"][-1]["update"] == 2
    assert run["history"][-1]["eval/episode/_type"] == "video-file"
    assert ("test-run-0001-policy-final", "model") in run["artifacts"]
    (video,) = info.directory.glob("wandb/offline-run-*/files/media/videos/eval/*.gif")
    with Image.open(video) as image:
        assert image.n_frames == 2
