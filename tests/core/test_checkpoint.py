"""Checkpoint files: round trip, atomic replacement, keep-last, and clear errors on bad files."""

import hashlib
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import serialization

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


def test_one_flipped_bit_in_the_header_is_detected(tmp_path):
    path = ckpt.save(tmp_path, _runner(), {"update": 1, "config": {"ent_coef": 0.15}}, keep_last=3)
    data = bytearray(path.read_bytes())
    at = data.index(b"0.15")
    data[at + 2] ^= ord("1") ^ ord("5")  # 0.15 -> 0.55, still valid JSON
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"checkpoint '{path}' is corrupt or truncated"):
        ckpt.read_header(path)


def test_format_1_files_are_still_read(tmp_path):
    runner = _runner()
    payload = serialization.to_bytes(runner)
    header = {"update": 5, "format": 1, "payload_bytes": len(payload),
              "sha256": hashlib.sha256(payload).hexdigest()}
    head = json.dumps(header).encode()
    path = tmp_path / ckpt.checkpoint_name(5)
    path.write_bytes(ckpt.MAGIC + len(head).to_bytes(8, "big") + head + payload)
    assert ckpt.read_header(path)[0]["update"] == 5
    restored = ckpt.restore(path, _shapes(runner))
    np.testing.assert_array_equal(restored.obs, runner.obs)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        ckpt.read_header(path)


def test_load_newest_valid_falls_back_and_names_what_it_skipped(tmp_path):
    for update in (2, 4, 6):
        ckpt.save(tmp_path / "checkpoints", _runner(), {"update": update}, keep_last=3)
    newest = tmp_path / "checkpoints" / ckpt.checkpoint_name(6)
    newest.write_bytes(newest.read_bytes()[:-3])
    warnings = []
    path, header, _ = ckpt.load_newest_valid(tmp_path, warnings.append)
    assert path.name == ckpt.checkpoint_name(4) and header["update"] == 4
    assert "update_00000006.ckpt" in warnings[0] and "corrupt or truncated" in warnings[0]
    with pytest.raises(CheckpointError, match="corrupt"):
        ckpt.load_newest_valid(newest, warnings.append)


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
