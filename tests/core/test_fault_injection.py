"""Fault injection: a real training process killed at random moments (SIGKILL, SIGINT, a double
SIGINT, SIGTERM) and resumed each time ends equal to an uninterrupted run, in its checkpoint and in
every sink (JSONL, TensorBoard, MLflow, wandb offline), each read back with its own reader: exactly
one point per update, with the uninterrupted run's values."""

import itertools
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
from hackmatrix.sinks.wandb_log import read_run_logs

WORKER = Path(__file__).with_name("fault_worker.py")
# Keys a resumed run recomputes exactly (perf/* are timings; health/* windows restart on resume).
EXACT_PREFIX = "train/"
DEADLINE_S = 900
FAULTS = ("SIGKILL", "SIGINT", "double SIGINT", "SIGTERM")
EXIT = {"SIGKILL": -signal.SIGKILL, "SIGINT": 130, "double SIGINT": 130, "SIGTERM": 143}
SAYS = {"SIGINT": "Ctrl-C: finishing the current chunk",
        "double SIGINT": "shutdown already in progress",
        "SIGTERM": "SIGTERM: finishing the current chunk"}


def _environment(tmp_path: Path) -> dict:
    """wandb offline with its files under tmp_path and its own service per worker process."""
    env = {k: v for k, v in os.environ.items() if k != "WANDB_SERVICE"}
    env.update(WANDB_MODE="offline", WANDB_SILENT="true",
               **{f"WANDB_{kind}_DIR": str(tmp_path / f"wandb-{kind.lower()}")
                  for kind in ("CACHE", "CONFIG", "DATA")})
    return env


def _start(tmp_path, env, seeds, runs, resume=None):
    """Start a worker whose output goes to a file, so the test can watch it while it runs."""
    argv = [sys.executable, str(WORKER), env, str(seeds), str(tmp_path / runs),
            f"sqlite:///{tmp_path}/{runs}.db", *([str(resume)] if resume else [])]
    log = tmp_path / f"{runs}-{len(list(tmp_path.glob(f'{runs}-*.log')))}.log"
    with log.open("w") as out:
        process = subprocess.Popen(argv, cwd=WORKER.parent, stdout=out, stderr=subprocess.STDOUT,
                                   text=True, env=_environment(tmp_path))
    process.log = log
    return process


def _output(process) -> str:
    return process.log.read_text(errors="replace")


def _sink_dirs(run_dir: Path, seeds: int) -> list[Path]:
    return [run_dir] if seeds == 1 else [run_dir / f"seed-{s}" for s in range(seeds)]


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _wait_for_lines(process, path: Path, count: int) -> None:
    """Wait until the run logged `count` updates to JSONL (the process must still be running)."""
    deadline = time.monotonic() + DEADLINE_S
    while _lines(path) < count:
        assert process.poll() is None, f"worker ended early:\n{_output(process)}"
        assert time.monotonic() < deadline, "worker too slow"
        time.sleep(0.01)


def _finish(process) -> tuple:
    process.wait(timeout=DEADLINE_S)
    return process.returncode, _output(process)


def _interrupt(process, fault: str) -> None:
    if fault == "SIGKILL":
        process.send_signal(signal.SIGKILL)
    elif fault == "SIGTERM":
        process.send_signal(signal.SIGTERM)
    else:
        process.send_signal(signal.SIGINT)
        if fault == "double SIGINT":
            # Two SIGINTs that arrive before Python runs its handler count as one (the
            # interpreter only records that the signal is pending), e.g. while a compiled
            # chunk holds the main thread: send the second once the first was handled.
            deadline = time.monotonic() + DEADLINE_S
            while SAYS["SIGINT"] not in _output(process) and process.poll() is None:
                assert time.monotonic() < deadline, "the first SIGINT was never handled"
                time.sleep(0.01)
            process.send_signal(signal.SIGINT)  # during the shutdown: must not lose anything


def _state(run_dir: Path, updates: int) -> dict:
    header, payload = ckpt.read_header(ckpt.resolve(run_dir))
    assert header["update"] == updates
    return serialization.msgpack_restore(payload)


def _assert_trees_equal(a, b, where=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_trees_equal(a[key], b[key], f"{where}.{key}")
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=where)


def _exact(points: dict) -> dict:
    return {key: value for key, value in points.items() if key.startswith(EXACT_PREFIX)}


def _jsonl(directory: Path) -> dict:
    rows = read_jsonl(directory / "metrics.jsonl")
    return {key: [(row["step"], row[key]) for row in rows] for key in _exact(rows[0])}


def _tensorboard(directory: Path) -> dict:
    accumulator = EventAccumulator(str(directory / "tensorboard"), size_guidance={"scalars": 0})
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"] if tag.startswith(EXACT_PREFIX)}


def _wandb(directory: Path) -> dict:
    # A process killed before wandb-core wrote its first 32 KiB block leaves a log of no record.
    logs = [log for log in read_run_logs(directory) if log["run_id"] is not None]
    assert len({log["run_id"] for log in logs}) == 1
    assert all(a["path"].parent.name < b["path"].parent.name for a, b in itertools.pairwise(logs))
    rows = [row for log in logs for row in log["history"]]
    assert [row["_step"] for row in rows] == sorted({row["_step"] for row in rows})
    return {key: [(row["update"], row[key]) for row in rows] for key in _exact(rows[0])}


def _mlflow(uri: str) -> list[dict]:
    """Each seed's run (the parent of a multi-seed group has no metrics), in seed order."""
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("hackmatrix").experiment_id])
    assert {run.info.status for run in runs} == {"FINISHED"}
    children = sorted((run for run in runs if run.data.metrics),
                      key=lambda run: int(run.data.tags.get("hackmatrix.seed", 0)))
    return [{key: [(m.step, m.value) for m in sorted(
        client.get_metric_history(run.info.run_id, key), key=lambda m: m.step)]
        for key in _exact(run.data.metrics)} for run in children]


def _backends(tmp_path: Path, runs: str, seeds: int) -> dict:
    dirs = _sink_dirs(tmp_path / runs / "ppo-001", seeds)
    return {"jsonl": [_jsonl(d) for d in dirs], "tensorboard": [_tensorboard(d) for d in dirs],
            "wandb": [_wandb(d) for d in dirs], "mlflow": _mlflow(f"sqlite:///{tmp_path}/{runs}.db")}


def _run_with_faults(tmp_path, env: str, seeds: int, faults: list, rng) -> str:
    """Start the run, interrupt it once per fault at a random update, resume it each time."""
    updates = UPDATES[env]
    run_dir = tmp_path / "runs" / "ppo-001"
    watched = _sink_dirs(run_dir, seeds)[0] / "metrics.jsonl"
    span = (updates - 24) // len(faults)
    process, logged, story = _start(tmp_path, env, seeds, "runs"), 0, []
    for fault in faults:
        # Past the first checkpoint (update 6), and past what the previous process logged, so
        # that the signal reaches a process that is training.
        at = max(logged, 8) + rng.randint(1, span)
        story.append(f"{fault} at {at}")
        _wait_for_lines(process, watched, at)
        with pytest.raises(RunLockedError, match=f"in use by process {process.pid}"):
            RunLock(run_dir)
        _interrupt(process, fault)
        code, output = _finish(process)
        assert code == EXIT[fault], f"{story}\n{output}"
        assert SAYS.get(fault, "") in output, f"{story}\n{output}"
        logged = _lines(watched)
        if fault != "SIGKILL":
            stopped = ckpt.read_header(ckpt.resolve(run_dir))[0]["update"]
            assert stopped == logged >= at, story
        process = _start(tmp_path, env, seeds, "runs", run_dir)
    code, output = _finish(process)
    assert code == 0, f"{story}\n{output}"
    return ", ".join(story)


def _check_faults(tmp_path, env: str, seeds: int, faults: list) -> None:
    seed = random.SystemRandom().randrange(1 << 30)
    rng = random.Random(seed)
    faults = rng.sample(faults, len(faults))
    updates = UPDATES[env]
    reference = _start(tmp_path, env, seeds, "ref")
    story = f"random seed {seed}: " + _run_with_faults(tmp_path, env, seeds, faults, rng)
    assert _finish(reference)[0] == 0, story

    ref_dir, run_dir = tmp_path / "ref" / "ppo-001", tmp_path / "runs" / "ppo-001"
    _assert_trees_equal(_state(run_dir, updates), _state(ref_dir, updates))
    expected, got = _backends(tmp_path, "ref", seeds), _backends(tmp_path, "runs", seeds)
    for backend, per_seed in got.items():
        assert len(per_seed) == seeds, (backend, story)
        for index, points in enumerate(per_seed):
            assert points and points.keys() == expected[backend][index].keys(), (backend, story)
            for key, series in points.items():
                where = (backend, index, key, story)
                assert [step for step, _ in series] == list(range(1, updates + 1)), where
                assert series == expected[backend][index][key], where
    assert not list(tmp_path.glob("runs/ppo-*/checkpoints/.*tmp*")), os.listdir(run_dir)


@pytest.mark.slow
def test_every_kind_of_kill_then_resume_equals_an_uninterrupted_run(tmp_path):
    _check_faults(tmp_path, "probe", 1, list(FAULTS))


@pytest.mark.slow
def test_a_multi_seed_run_killed_and_resumed_equals_an_uninterrupted_one(tmp_path):
    _check_faults(tmp_path, "probe", 2, ["SIGKILL", "double SIGINT"])


@pytest.mark.long
def test_the_real_game_killed_and_resumed_equals_an_uninterrupted_run(tmp_path):
    _check_faults(tmp_path, "game", 2, [*FAULTS, "SIGKILL", "SIGTERM"])
