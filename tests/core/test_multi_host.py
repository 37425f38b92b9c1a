"""Multi-host training with real processes: two CPU processes on localhost joined by
`run.distributed=true` (one device each, gloo collectives) train what one process with two
devices trains; only process 0 writes; a resumed two-process run continues exactly; multi-seed
runs across processes too. The probe env keeps the compiles to seconds."""

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
# 4 updates of 16 probe envs x 8 steps, a chunk of 2, a checkpoint after updates 2 and 4.
BASE = ["env.num_envs=16", "ppo.num_steps=8", "ppo.total_timesteps=512",
        "network.hidden_sizes=[32]", "ppo.num_minibatches=2", "run.updates_per_chunk=2",
        "checkpoint.every_updates=2", "checkpoint.keep_last=10", "sinks=[jsonl, tensorboard]",
        "run.compilation_cache=''"]
RUN = Path("runs/ppo-001")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(cwd: Path, args, **env):
    cwd.mkdir(parents=True, exist_ok=True)
    environ = dict(os.environ, JAX_PLATFORMS="cpu", **env)
    return subprocess.Popen([sys.executable, str(WORKER), *args], cwd=cwd, env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _start_group(root: Path, args) -> list:
    """Start two processes of one distributed run, each in its own empty directory."""
    port = _free_port()
    return [_start(root / f"process-{i}", [*args, "run.distributed=true"],
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


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One process with two devices, and two processes with one device each, run at once."""
    root = tmp_path_factory.mktemp("multi_host")
    single = _start(root / "single", ["new", *BASE],
                    XLA_FLAGS="--xla_force_host_platform_device_count=2")
    group = _start_group(root / "group", ["new", *BASE])
    reports = _finish([single, *group])
    return root, reports


def test_two_processes_train_what_two_devices_in_one_process_train(runs):
    root, (single, *group) = runs
    assert single == {"process": 0, "processes": 1, "devices": 2, "local_devices": 2,
                      "status": "finished"}
    assert [(r["process"], r["processes"], r["devices"], r["local_devices"]) for r in group] == [
        (0, 2, 2, 1), (1, 2, 2, 1)]
    one, two = root / "single" / RUN, root / "group" / "process-0" / RUN
    for update in (2, 4):
        name = f"checkpoints/{ckpt.checkpoint_name(update)}"
        expected, got = _params(one / name), _params(two / name)
        assert expected.keys() == got.keys()
        for key, value in expected.items():
            np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-6, err_msg=key)
    assert [r["step"] for r in _train_rows(two)] == [1, 2, 3, 4]
    _assert_rows_close(_train_rows(two), _train_rows(one))


def test_only_process_zero_writes_sinks_and_checkpoints(runs):
    root, _ = runs
    main = root / "group" / "process-0"
    assert list((root / "group" / "process-1").iterdir()) == []
    assert [p.name for p in (main / "runs").iterdir()] == ["ppo-001"]
    assert [p.name for p in ckpt.list_checkpoints(main / RUN / "checkpoints")] == [
        ckpt.checkpoint_name(2), ckpt.checkpoint_name(4)]
    assert len(list((main / RUN / "tensorboard").glob("events.out.tfevents.*"))) == 1


def test_a_resumed_two_process_run_continues_exactly(runs, tmp_path):
    root, _ = runs
    uninterrupted = root / "group" / "process-0" / RUN
    resumed = tmp_path / "ppo-001"
    shutil.copytree(uninterrupted, resumed)
    (resumed / "checkpoints" / ckpt.checkpoint_name(4)).unlink()  # as if stopped after update 2
    reports = _finish(_start_group(tmp_path / "group", [str(resumed)]))
    assert [r["status"] for r in reports] == ["finished", "finished"]
    assert list((tmp_path / "group" / "process-1").iterdir()) == []
    final = f"checkpoints/{ckpt.checkpoint_name(4)}"
    expected, got = _params(uninterrupted / final), _params(resumed / final)
    for key, value in expected.items():
        np.testing.assert_array_equal(got[key], value, err_msg=key)
    assert _train_rows(resumed) == _train_rows(uninterrupted)


def test_multi_seed_runs_across_two_processes(runs, tmp_path):
    root, _ = runs
    reports = _finish(_start_group(tmp_path, ["new", *BASE, "run.seeds=2"]))
    assert [r["devices"] for r in reports] == [2, 2]
    assert list((tmp_path / "process-1").iterdir()) == []
    run_dir = tmp_path / "process-0" / RUN
    assert sorted(p.name for p in run_dir.glob("seed-*")) == ["seed-0", "seed-1"]
    final = f"checkpoints/{ckpt.checkpoint_name(4)}"
    one_seed, stacked = _params(root / "single" / RUN / final), _params(run_dir / final)
    # Seed 0 of the group is the one-seed run of seed 0; seed 1 is another run.
    for key, value in one_seed.items():
        np.testing.assert_allclose(stacked[key][0], value, rtol=1e-5, atol=1e-6, err_msg=key)
    assert any(not np.allclose(stacked[k][1], v) for k, v in one_seed.items())
    _assert_rows_close(_train_rows(run_dir / "seed-0"), _train_rows(root / "single" / RUN))
