"""The host pipeline: naming, episode omission, guards, non-finite reports, isolation, closing."""

import math
import threading
import time

import pytest

from hackmatrix.metrics import HealthConfig, MetricsPipeline, StepOrderError
from hackmatrix.sinks import RunInfo, Sink


class Recorder(Sink):
    """Keeps every call in memory (a real Sink, used as the healthy neighbour)."""

    NAME = "recorder"

    def __init__(self, run_info, delay=0.0, **options):
        super().__init__(run_info, **options)
        self.points, self.artifacts, self.calls = [], [], []
        self.delay = delay

    def log_metrics(self, metrics, step):
        time.sleep(self.delay)
        self.points.append((step, dict(metrics)))

    def log_artifact(self, path):
        self.artifacts.append(path)

    def flush(self):
        self.calls.append("flush")

    def close(self, status):
        self.calls.append(f"close:{status}")


class Raiser(Recorder):
    NAME = "raiser"

    def log_metrics(self, metrics, step):
        raise RuntimeError(f"backend down at {step}")


class Dropper(Recorder):
    NAME = "dropper"
    NONFINITE = "drop"


class Blocker(Recorder):
    """Hangs in its first call until released."""

    NAME = "blocker"

    def __init__(self, run_info, **options):
        super().__init__(run_info, **options)
        self.release = threading.Event()

    def log_metrics(self, metrics, step):
        self.release.wait(30)
        super().log_metrics(metrics, step)


@pytest.fixture
def run_info(tmp_path):
    return RunInfo(name="t", run_id="t-1", directory=tmp_path)


def test_publish_names_drops_empty_episodes_and_adds_health(run_info):
    sink = Recorder(run_info)
    messages = []
    with MetricsPipeline([sink], report=messages.append) as pipeline:
        first = pipeline.publish(1, {"approx_kl": 0.01, "entropy": 2.0, "perf/sps": 10.0,
                                     "episode/count": 0.0, "episode/return_mean": 0.0})
        pipeline.publish(2, {"approx_kl": 0.01, "entropy": 2.0, "perf/sps": 10.0,
                             "episode/count": 3.0, "episode/return_mean": 1.5})
    assert first == {"train/approx_kl": 0.01, "train/entropy": 2.0, "perf/sps": 10.0,
                     "health/approx_kl_ok": 1.0, "health/entropy_ok": 1.0, "health/all_ok": 1.0}
    assert [step for step, _ in sink.points] == [1, 2]
    assert sink.points[0][1] == first
    assert sink.points[1][1]["episode/return_mean"] == 1.5
    assert sink.points[1][1]["episode/count"] == 3.0
    assert sink.calls == ["flush", "close:finished"]
    assert any("health summary" in m for m in messages)


def test_steps_must_strictly_increase(run_info):
    resumed = RunInfo(name="t", run_id="t-1", directory=run_info.directory, resumed=True,
                      start_step=10)
    pipeline = MetricsPipeline([Recorder(resumed)], report=lambda m: None)
    assert pipeline.last_step == 10
    with pytest.raises(StepOrderError, match="step 10 does not follow step 10"):
        pipeline.publish(10, {"a/b": 1.0})
    pipeline.publish(11, {"a/b": 1.0})
    with pytest.raises(StepOrderError):
        pipeline.publish(11, {"a/b": 1.0})
    with pytest.raises(StepOrderError, match="integer"):
        pipeline.publish(12.0, {"a/b": 1.0})
    pipeline.publish(13, {"a/b": 1.0})
    pipeline.close()
    with pytest.raises(RuntimeError, match="after close"):
        pipeline.publish(14, {"a/b": 1.0})


def test_nonfinite_reported_once_per_key_and_policy_applied(run_info):
    keep, drop = Recorder(run_info), Dropper(run_info)
    messages = []
    pipeline = MetricsPipeline([keep, drop], report=messages.append)
    pipeline.publish(1, {"x/a": 1.0, "x/b": 2.0})
    pipeline.publish(2, {"x/a": math.nan, "x/b": 2.0})
    pipeline.publish(3, {"x/a": math.nan, "x/b": math.inf})
    pipeline.close()
    reports = [m for m in messages if m.startswith("non-finite value(s) at")]
    assert len(reports) == 2
    assert reports[0].startswith("non-finite value(s) at update 2: x/a=nan")
    assert "recorder: keep, dropper: drop" in reports[0]
    assert reports[1].startswith("non-finite value(s) at update 3: x/b=inf")
    summary = [m for m in messages if m.startswith("non-finite values during the run")]
    assert summary == [("non-finite values during the run:\n"
                        "  x/a: 2 non-finite value(s), first at update 2\n"
                        "  x/b: 1 non-finite value(s), first at update 3")]
    assert math.isnan(keep.points[1][1]["x/a"]) and keep.points[2][1]["x/b"] == math.inf
    assert [point for _, point in drop.points] == [{"x/a": 1.0, "x/b": 2.0}, {"x/b": 2.0}, {}]


def test_raising_sink_is_reported_once_and_isolated(run_info):
    good, bad = Recorder(run_info), Raiser(run_info)
    messages = []
    with MetricsPipeline([bad, good], report=messages.append) as pipeline:
        for step in range(1, 21):
            pipeline.publish(step, {"x/v": float(step)})
            pipeline.log_artifact(run_info.directory)
        assert pipeline.flush(10)
        assert pipeline.failed_sinks == ["raiser"]
    failures = [m for m in messages if "raiser" in m and "failed" in m]
    assert len(failures) == 1
    assert failures[0].startswith("sink 'raiser' failed at update 1 and is disabled")
    assert "RuntimeError: backend down at 1" in failures[0]
    assert [p["x/v"] for _, p in good.points] == [float(s) for s in range(1, 21)]
    assert len(good.artifacts) == 20 and bad.artifacts == []
    assert good.calls == ["flush", "flush", "close:finished"]
    assert pipeline.sink_failures == [("sink 'raiser' failed from update 1; it holds the updates "
                                       "before 1: RuntimeError: backend down at 1 (in log_metrics)")]
    assert bad.calls == ["close:finished"]  # disabled: no flush, only the closing courtesy


def test_slow_sink_does_not_hold_training_back(run_info):
    slow, fast = Recorder(run_info, delay=0.05), Recorder(run_info)
    pipeline = MetricsPipeline([slow, fast], report=lambda m: None)
    start = time.monotonic()
    for step in range(1, 11):
        pipeline.publish(step, {"x/v": float(step)})
    publish_seconds = time.monotonic() - start
    pipeline.close()
    assert publish_seconds < 0.25  # the slow sink alone needs 0.5 s
    assert len(slow.points) == len(fast.points) == 10


def test_hung_sink_is_disabled_after_put_timeout(run_info):
    hung, good = Blocker(run_info), Recorder(run_info)
    messages = []
    pipeline = MetricsPipeline([hung, good], queue_size=1, put_timeout_s=0.2,
                               report=messages.append)
    start = time.monotonic()
    for step in range(1, 31):
        pipeline.publish(step, {"x/v": float(step)})
    assert time.monotonic() - start < 2.0  # waited on the hung sink once, not per update
    start = time.monotonic()
    pipeline.close()
    assert time.monotonic() - start < 2.0  # no close_timeout_s wait for a sink known to hang
    assert [m for m in messages if m.startswith("sink 'blocker' failed at update 3")]
    assert [m for m in messages if "did not finish closing" in m]
    assert len(good.points) == 30
    hung.release.set()


@pytest.mark.parametrize("error, status", [(KeyboardInterrupt, "interrupted"),
                                           (ValueError, "failed")])
def test_context_manager_closes_on_interrupt_and_error(run_info, error, status):
    sink = Recorder(run_info, delay=0.01)
    with pytest.raises(error), MetricsPipeline([sink], report=lambda m: None) as pipeline:
        for step in range(1, 6):
            pipeline.publish(step, {"x/v": 1.0})
        raise error()
    assert len(sink.points) == 5  # drained before closing
    assert sink.calls == ["flush", f"close:{status}"]


def test_should_stop_after_patience(run_info):
    messages = []
    health = HealthConfig(stop_when_unhealthy=True, stop_patience=2)
    pipeline = MetricsPipeline([], health=health, report=messages.append)
    pipeline.publish(1, {"approx_kl": 0.5})
    assert not pipeline.should_stop
    pipeline.publish(2, {"approx_kl": 0.5})
    assert pipeline.should_stop
    assert any(m.startswith("stop_when_unhealthy") for m in messages)
    assert pipeline.health_summary()["approx_kl"]["healthy_fraction"] == 0.0
    assert not MetricsPipeline([], report=lambda m: None).should_stop


def test_close_rejects_unknown_status(run_info):
    pipeline = MetricsPipeline([], report=lambda m: None)
    with pytest.raises(ValueError, match="finished"):
        pipeline.close("done")
