"""The TensorBoard sink, read back with TensorBoard's own event reader."""

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hparams_metadata

from hackmatrix.metrics import MetricsPipeline
from hackmatrix.sinks import create_sinks


def scalars(logdir):
    accumulator = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator, {
        tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
        for tag in accumulator.Tags()["scalars"]
    }


def log(info, steps, value):
    with MetricsPipeline(create_sinks(["tensorboard"], info), report=lambda m: None) as pipeline:
        for step in steps:
            pipeline.publish(step, {"train/value_loss": value(step),
                                    "perf/env_steps": float(step * 1024)})


def test_round_trip_and_hparams_in_the_same_run(make_run_info):
    info = make_run_info()

    def value(step):
        return float(np.float32(0.1 * step))  # TensorBoard keeps float32

    log(info, range(1, 8), value)
    logdir = info.directory / "tensorboard"
    assert [p for p in logdir.iterdir() if p.is_dir()] == []  # no separate hparams run
    accumulator, found = scalars(logdir)
    assert found["train/value_loss"] == [(s, value(s)) for s in range(1, 8)]
    assert found["perf/env_steps"] == [(s, float(s * 1024)) for s in range(1, 8)]
    content = accumulator.PluginTagToContent(hparams_metadata.PLUGIN_NAME)
    start = hparams_metadata.parse_session_start_info_plugin_data(
        content[hparams_metadata.SESSION_START_INFO_TAG])
    assert start.hparams["ppo.learning_rate"].number_value == 0.00025
    assert start.hparams["env.num_envs"].number_value == 8
    assert start.hparams["network.hidden_sizes"].string_value == "[64, 64]"
    assert start.hparams["git_commit"].string_value == "abc123"


def test_resume_continues_the_run_and_purges_points_after_the_checkpoint(make_run_info):
    log(make_run_info(), range(1, 7), lambda step: float(step))
    log(make_run_info(resumed=True, start_step=4), range(5, 9), lambda step: 10.0 * step)
    _, found = scalars(make_run_info().directory / "tensorboard")
    assert found["train/value_loss"] == [(1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0), (5, 50.0),
                                         (6, 60.0), (7, 70.0), (8, 80.0)]
