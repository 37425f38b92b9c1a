"""Checkpoint files: round trip, atomic replacement, keep-last, and clear errors on bad files."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hackmatrix.core import checkpoint as ckpt
from hackmatrix.core.runner_state import RunnerState
from hackmatrix.errors import CheckpointError


def _runner(num_envs=4, hidden=3):
    return RunnerState(
        params={"w": np.arange(hidden * 2, dtype=np.float32).reshape(hidden, 2)},
        opt_state=(np.int32(7), {"mu": np.ones((hidden, 2), np.float32)}),
        env_state={"hp": np.arange(num_envs, dtype=np.int32),
                   "won": np.zeros((num_envs,), bool)},
        obs=np.full((num_envs, 5), 0.5, np.float32), mask=np.ones((num_envs, 28), bool),
        key=np.asarray(jax.random.PRNGKey(3)), update=np.int32(12))


def _shapes(runner):
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(np.shape(x), np.asarray(x).dtype), runner)


def test_round_trip_is_exact(tmp_path):
    runner = _runner()
    path = ckpt.save(tmp_path, runner, {"update": 12, "config": {"a": 1}}, keep_last=3)
    assert path.name == "update_00000012.ckpt"
    header, _ = ckpt.read_header(path)
    assert header["update"] == 12 and header["config"] == {"a": 1}
    assert header["format"] == ckpt.FORMAT_VERSION
    restored = ckpt.restore(path, _shapes(runner))
    for a, b in zip(jax.tree.leaves(runner), jax.tree.leaves(restored), strict=True):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_array_equal(a, b)
    assert not [p for p in os.listdir(tmp_path) if ".tmp" in p]


def test_keep_last_and_resolve(tmp_path):
    runner = _runner()
    for update in (2, 4, 6, 8):
        ckpt.save(tmp_path / "checkpoints", runner, {"update": update}, keep_last=2)
    names = [p.name for p in ckpt.list_checkpoints(tmp_path / "checkpoints")]
    assert names == ["update_00000006.ckpt", "update_00000008.ckpt"]
    assert ckpt.resolve(tmp_path).name == "update_00000008.ckpt"
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="no checkpoint"):
        ckpt.resolve(tmp_path / "empty")
    with pytest.raises(CheckpointError, match="neither a checkpoint file nor a run directory"):
        ckpt.resolve(tmp_path / "missing")


def test_atomic_write_leaves_the_old_file_when_interrupted(tmp_path, monkeypatch):
    runner = _runner()
    path = ckpt.save(tmp_path, runner, {"update": 12}, keep_last=3)
    before = path.read_bytes()

    def torn_replace(src, dst):
        raise OSError("disk went away")

    monkeypatch.setattr(os, "replace", torn_replace)
    with pytest.raises(OSError):
        ckpt.save(tmp_path, _runner(hidden=3), {"update": 12, "x": 1}, keep_last=3)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["update_00000012.ckpt"]


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[:-10], "corrupt or truncated"),
    (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "corrupt or truncated"),
    (lambda b: b"garbage" + b, "not a hackmatrix checkpoint"),
    (lambda b: b[:40], "corrupt"),
])
def test_corrupt_files_give_a_clear_error(tmp_path, damage, message):
    path = ckpt.save(tmp_path, _runner(), {"update": 1}, keep_last=3)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError, match=message):
        ckpt.restore(path, _shapes(_runner()))


def test_other_format_version_is_refused(tmp_path):
    path = ckpt.save(tmp_path, _runner(), {"update": 1}, keep_last=3)
    data = path.read_bytes()
    start = len(ckpt.MAGIC) + 8
    size = int.from_bytes(data[len(ckpt.MAGIC):start], "big")
    header = json.loads(data[start:start + size])
    header["format"] = 99
    head = json.dumps(header).encode()
    path.write_bytes(ckpt.MAGIC + len(head).to_bytes(8, "big") + head + data[start + size:])
    with pytest.raises(CheckpointError, match="format 99"):
        ckpt.read_header(path)


def test_incompatible_state_names_the_array(tmp_path):
    path = ckpt.save(tmp_path, _runner(num_envs=4), {"update": 1}, keep_last=3)
    with pytest.raises(CheckpointError, match=r"env_state.hp is int32\[4\] there, int32\[8\] here"):
        ckpt.restore(path, _shapes(_runner(num_envs=8)))
    other = _runner().replace(params={"w": np.zeros((3, 2), np.float32), "b": np.zeros(2)})
    with pytest.raises(CheckpointError, match="does not fit|holds"):
        ckpt.restore(path, _shapes(other))


def test_host_copy_gives_numpy(tmp_path):
    tree = {"a": jnp.arange(3)}
    host = ckpt.host_copy(tree)
    assert isinstance(host["a"], np.ndarray)
