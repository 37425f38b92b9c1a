"""Fault injection: a real training process killed (SIGKILL, SIGTERM + a second signal) mid-run
and resumed each time ends equal to an uninterrupted run, in its checkpoint and in every sink."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from fault_worker import UPDATES
from flax import serialization
from mlflow.tracking import MlflowClient
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from hackmatrix.core import checkpoint as ckpt
from hackmatrix.core.run_lock import RunLock, RunLockedError
from hackmatrix.sinks.jsonl import read_jsonl

WORKER = Path(__file__).with_name("fault_worker.py")
# Keys a resumed run recomputes exactly (perf/* are timings; health/* windows restart on resume).
EXACT_PREFIX = "train/"
DEADLINE_S = 400


def _start(runs_dir, uri, resume=None):
    argv = [sys.executable, str(WORKER), str(runs_dir), uri, *([str(resume)] if resume else [])]
    return subprocess.Popen(argv, cwd=WORKER.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _wait_for_lines(process, path: Path, count: int) -> None:
    """Wait until the run logged `count` updates to JSONL (the process must still be running)."""
    deadline = time.monotonic() + DEADLINE_S
    while _lines(path) < count:
        assert process.poll() is None, f"worker ended early:\n{process.communicate()[0]}"
        assert time.monotonic() < deadline, "worker too slow"
        time.sleep(0.01)


def _finish(process) -> tuple:
    output, _ = process.communicate(timeout=DEADLINE_S)
    return process.returncode, output


def _state(run_dir: Path) -> dict:
    header, payload = ckpt.read_header(ckpt.resolve(run_dir))
    assert header["update"] == UPDATES
    return serialization.msgpack_restore(payload)


def _assert_trees_equal(a, b, where=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_trees_equal(a[key], b[key], f"{where}.{key}")
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=where)


def _jsonl(run_dir: Path) -> list:
    return [{k: v for k, v in row.items() if k == "step" or k.startswith(EXACT_PREFIX)}
            for row in read_jsonl(run_dir / "metrics.jsonl")]


def _mlflow(uri: str) -> dict:
    client = MlflowClient(uri)
    [run] = client.search_runs([client.get_experiment_by_name("hackmatrix").experiment_id])
    assert run.info.status == "FINISHED"
    return {key: [(m.step, m.value) for m in sorted(
        client.get_metric_history(run.info.run_id, key), key=lambda m: m.step)]
        for key in run.data.metrics if key.startswith(EXACT_PREFIX)}


def _tensorboard(run_dir: Path) -> dict:
    accumulator = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0})
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"] if tag.startswith(EXACT_PREFIX)}


@pytest.mark.slow
def test_killed_and_resumed_run_equals_an_uninterrupted_one(tmp_path):
    seed = random.SystemRandom().randrange(1 << 30)
    rng = random.Random(seed)
    kill_at = rng.randint(20, 90)
    term_at = rng.randint(kill_at + 30, 200)
    why = f"(random seed {seed}: SIGKILL at {kill_at} updates, SIGTERM at {term_at})"
    ref_uri, uri = f"sqlite:///{tmp_path}/ref.db", f"sqlite:///{tmp_path}/faults.db"
    reference = _start(tmp_path / "ref", ref_uri)

    first = _start(tmp_path / "runs", uri)
    run_dir = tmp_path / "runs" / "ppo-001"
    _wait_for_lines(first, run_dir / "metrics.jsonl", kill_at)
    with pytest.raises(RunLockedError, match=f"in use by process {first.pid}"):
        RunLock(run_dir)
    first.send_signal(signal.SIGKILL)
    assert _finish(first)[0] == -signal.SIGKILL, why

    second = _start(tmp_path / "runs", uri, run_dir)
    _wait_for_lines(second, run_dir / "metrics.jsonl", term_at)
    second.send_signal(signal.SIGTERM)
    time.sleep(0.05)
    second.send_signal(signal.SIGINT)  # during the shutdown: must not lose anything
    code, output = _finish(second)
    assert code == 128 + signal.SIGTERM, f"{why}\n{output}"
    assert "SIGTERM: finishing the current chunk" in output, output
    assert "shutdown already in progress" in output, output
    stopped = ckpt.read_header(ckpt.resolve(run_dir))[0]["update"]
    assert stopped == _lines(run_dir / "metrics.jsonl") >= term_at, why

    third = _start(tmp_path / "runs", uri, run_dir)
    code, output = _finish(third)
    assert code == 0, f"{why}\n{output}"
    assert _finish(reference)[0] == 0, why
    ref_dir = tmp_path / "ref" / "ppo-001"

    _assert_trees_equal(_state(run_dir), _state(ref_dir))
    rows = _jsonl(run_dir)
    assert [row["step"] for row in rows] == list(range(1, UPDATES + 1)), why
    assert rows == _jsonl(ref_dir), why
    for read, ref_source, source in ((_mlflow, ref_uri, uri), (_tensorboard, ref_dir, run_dir)):
        expected, got = read(ref_source), read(source)
        assert expected and got.keys() == expected.keys(), why
        for key, points in got.items():
            assert [step for step, _ in points] == list(range(1, UPDATES + 1)), (key, why)
            assert points == expected[key], (key, why)
    assert not list(tmp_path.glob("runs/ppo-*/checkpoints/.*tmp*")), os.listdir(run_dir)
