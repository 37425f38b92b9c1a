"""Multi-host training with real processes: two CPU processes on localhost joined by
`run.distributed=true` (one device each, gloo collectives) train what one process with two
devices trains; only process 0 writes; a resumed two-process run continues exactly; multi-seed
runs across processes too. The probe env keeps the compiles to seconds; each run is a module
fixture that every test reads, and at most three processes run at once (2 CPU cores)."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
from flax import serialization

from hackmatrix.core import checkpoint as ckpt
from hackmatrix.sinks.jsonl import read_jsonl

WORKER = Path(__file__).with_name("multi_host_worker.py")
DEADLINE_S = 600
# 2 updates of 8 probe envs x 4 steps, a chunk and a checkpoint after each update.
BASE = ["env.num_envs=8", "ppo.num_steps=4", "ppo.total_timesteps=64",
        "network.hidden_sizes=[16]", "ppo.num_minibatches=2", "run.updates_per_chunk=1",
        "checkpoint.every_updates=1", "checkpoint.keep_last=10", "sinks=[jsonl, tensorboard]",
        "run.compilation_cache=''"]
RUN = Path("runs/ppo-001")
FINAL = f"checkpoints/{ckpt.checkpoint_name(2)}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(cwd: Path, args, **env):
    cwd.mkdir(parents=True, exist_ok=True)
    environ = dict(os.environ, JAX_PLATFORMS="cpu", **env)
    return subprocess.Popen([sys.executable, str(WORKER), *args], cwd=cwd, env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _start_group(root: Path, args, args_1=None) -> list:
    """Start two processes of one distributed run, each in its own empty directory (process 1
    with `args_1` where given)."""
    port = _free_port()
    return [_start(root / f"process-{i}", [*(args_1 if i and args_1 else args),
                                           "run.distributed=true"],
                   JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}", JAX_NUM_PROCESSES="2",
                   JAX_PROCESS_ID=str(i)) for i in range(2)]


def _finish(procs) -> list:
    """Wait for every process; return the JSON report line of each."""
    try:
        outputs = [proc.communicate(timeout=DEADLINE_S)[0] for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, output in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, output
    return [json.loads(output.strip().splitlines()[-1]) for output in outputs]


def _params(checkpoint: Path) -> dict:
    """The network params stored in a checkpoint, by path."""
    _, payload = ckpt.read_header(checkpoint)
    leaves = jax.tree_util.tree_leaves_with_path(serialization.msgpack_restore(payload)["params"])
    return {jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in leaves}


def _train_rows(run_dir: Path) -> list:
    """The train/* metrics of each logged update, in order."""
    rows = read_jsonl(run_dir / "metrics.jsonl")
    return [{k: v for k, v in row.items() if k.startswith("train/") or k == "step"}
            for row in rows]


def _assert_rows_close(got, expected) -> None:
    """The same updates with the same metrics, within float tolerance."""
    assert [r.keys() for r in got] == [r.keys() for r in expected]
    for have, want in zip(got, expected, strict=True):
        np.testing.assert_allclose([have[k] for k in want], list(want.values()), rtol=1e-5,
                                   atol=1e-6)


def _files(root: Path) -> dict:
    """Every file under root with its size and modification time."""
    return {p.relative_to(root): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One process with two devices, and two processes with one device each, run at once."""
    root = tmp_path_factory.mktemp("multi_host")
    single = _start(root / "single", ["new", *BASE],
                    XLA_FLAGS="--xla_force_host_platform_device_count=2")
    group = _start_group(root / "group", ["new", *BASE])
    return root, _finish([single, *group])


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """A two-seed run of two processes."""
    root = tmp_path_factory.mktemp("seeds")
    return root, _finish(_start_group(root, ["new", *BASE, "run.seeds=2"]))


@pytest.fixture(scope="module")
def resumed(runs, tmp_path_factory):
    """The two-process run resumed after update 1; process 1 reads its own copy of the run."""
    root, _ = runs
    out = tmp_path_factory.mktemp("resumed")
    copies = [out / "shared" / "ppo-001", out / "host-1-copy" / "ppo-001"]
    for copy in copies:
        shutil.copytree(root / "group" / "process-0" / RUN, copy)
        (copy / FINAL).unlink()  # as if stopped after update 1
    before = _files(copies[1])
    reports = _finish(_start_group(out / "group", [str(copies[0])], [str(copies[1])]))
    return out, copies, before, reports


def test_two_processes_train_what_two_devices_in_one_process_train(runs):
    root, (single, *group) = runs
    assert single == {"process": 0, "processes": 1, "devices": 2, "local_devices": 2,
                      "status": "finished"}
    assert [(r["process"], r["processes"], r["devices"], r["local_devices"])
            for r in group] == [(0, 2, 2, 1), (1, 2, 2, 1)]
    one, two = root / "single" / RUN, root / "group" / "process-0" / RUN
    for update in (1, 2):
        name = f"checkpoints/{ckpt.checkpoint_name(update)}"
        expected, got = _params(one / name), _params(two / name)
        assert expected.keys() == got.keys()
        for key, value in expected.items():
            np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-6, err_msg=key)
    assert [r["step"] for r in _train_rows(two)] == [1, 2]
    _assert_rows_close(_train_rows(two), _train_rows(one))


def test_only_process_zero_writes_sinks_and_checkpoints(runs):
    root, _ = runs
    main = root / "group" / "process-0"
    assert list((root / "group" / "process-1").iterdir()) == []
    assert [p.name for p in (main / "runs").iterdir()] == ["ppo-001"]
    assert [p.name for p in ckpt.list_checkpoints(main / RUN / "checkpoints")] == [
        ckpt.checkpoint_name(1), ckpt.checkpoint_name(2)]
    assert len(list((main / RUN / "tensorboard").glob("events.out.tfevents.*"))) == 1


def test_a_resumed_two_process_run_continues_exactly(runs, resumed):
    root, _ = runs
    out, (shared, host_1_copy), before, reports = resumed
    assert [r["status"] for r in reports] == ["finished", "finished"]
    # Process 1 read its copy of the run and wrote nothing, there or in its directory.
    assert _files(host_1_copy) == before
    assert list((out / "group" / "process-1").iterdir()) == []
    uninterrupted = root / "group" / "process-0" / RUN
    expected, got = _params(uninterrupted / FINAL), _params(shared / FINAL)
    for key, value in expected.items():
        np.testing.assert_array_equal(got[key], value, err_msg=key)
    assert _train_rows(shared) == _train_rows(uninterrupted)


def test_multi_seed_runs_across_two_processes(runs, seeds):
    root, _ = runs
    seeds_root, reports = seeds
    assert [r["devices"] for r in reports] == [2, 2]
    assert list((seeds_root / "process-1").iterdir()) == []
    run_dir = seeds_root / "process-0" / RUN
    assert sorted(p.name for p in run_dir.glob("seed-*")) == ["seed-0", "seed-1"]
    one_seed, stacked = _params(root / "single" / RUN / FINAL), _params(run_dir / FINAL)
    # Seed 0 of the group is the one-seed run of seed 0; seed 1 is another run.
    for key, value in one_seed.items():
        np.testing.assert_allclose(stacked[key][0], value, rtol=1e-5, atol=1e-6, err_msg=key)
    assert any(not np.allclose(stacked[k][1], v) for k, v in one_seed.items())
    _assert_rows_close(_train_rows(run_dir / "seed-0"), _train_rows(root / "single" / RUN))
