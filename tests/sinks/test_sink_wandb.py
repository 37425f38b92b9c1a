"""The wandb sink in offline mode, read back from the offline run directory."""

import math
import os
import signal
import subprocess
import sys

import pytest

from hackmatrix.errors import ConfigError
from hackmatrix.metrics import MetricsPipeline
from hackmatrix.sinks import create_sinks, validate_sink_specs
from hackmatrix.sinks.wandb_log import read_run_logs


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
    (run,) = read_run_logs(info.directory)
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
    (run,) = read_run_logs(info.directory)
    assert run["history"][0]["train/entropy"] == 1.0
    assert math.isnan(run["history"][1]["train/entropy"])


def test_resume_skips_the_updates_the_run_already_holds(make_run_info):
    log(make_run_info(), range(1, 7), float)
    # Resumed from the checkpoint of update 4: updates 5 and 6, already in the run, are not logged
    # again (a real resumed run recomputes the same values; here they differ to show which stay).
    log(make_run_info(resumed=True, start_step=4), range(5, 11), lambda step: 10.0 * step)
    first, second = read_run_logs(make_run_info().directory)
    assert first["run_id"] == second["run_id"] == "test-run-0001"
    assert first["path"].parent.name < second["path"].parent.name
    rows = first["history"] + second["history"]
    assert [row["_step"] for row in rows] == list(range(10))
    assert [row["update"] for row in rows] == list(range(1, 11))
    assert [row["train/entropy"] for row in rows] == [*map(float, range(1, 7)),
                                                      *(10.0 * s for s in range(7, 11))]


KILLED_WORKER = """
import os, signal, sys
from hackmatrix.sinks import RunInfo, create_sinks
info = RunInfo(name="test-run", run_id="test-run-0001", directory=sys.argv[1])
[sink] = create_sinks(["wandb"], info)
for update in range(1, int(sys.argv[2]) + 1):
    sink.log_metrics({"train/entropy": update / 7, "perf/env_steps": update * 64.0}, update)
sink.flush()  # what the pipeline does before it writes a checkpoint
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_points_wandb_never_wrote_before_a_sigkill_are_logged_on_resume(make_run_info):
    directory = make_run_info().directory
    # Its own wandb service: an inherited one (WANDB_SERVICE, set once this process used wandb)
    # would outlive the kill and keep the run id in use.
    env = {k: v for k, v in os.environ.items() if k != "WANDB_SERVICE"}
    killed = subprocess.run([sys.executable, "-c", KILLED_WORKER, str(directory), "300"],
                            check=False, capture_output=True, text=True, timeout=120, env=env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (before,) = read_run_logs(directory)
    held = [row["update"] for row in before["history"]]
    assert held == list(range(1, len(held) + 1)) and len(held) < 300  # wandb-core lost the tail

    log(make_run_info(resumed=True, start_step=300), range(301, 306), lambda step: step / 7)
    rows = [row for run in read_run_logs(directory) for row in run["history"]]
    assert [row["update"] for row in rows] == list(range(1, 306))
    assert [row["train/entropy"] for row in rows] == [s / 7 for s in range(1, 306)]
    assert [row["_step"] for row in rows] == list(range(305))


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
    (run,) = read_run_logs(info.directory)
    assert run["history"][-1]["update"] == 2
    assert run["history"][-1]["eval/episode/_type"] == "video-file"
    assert ("test-run-0001-policy-final", "model") in run["artifacts"]
    (video,) = info.directory.glob("wandb/offline-run-*/files/media/videos/eval/*.gif")
    with Image.open(video) as image:
        assert image.n_frames == 2
