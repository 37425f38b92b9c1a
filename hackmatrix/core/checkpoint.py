"""Checkpoints: the whole runner state plus a JSON header, written atomically and checksummed.

File layout (format 2): MAGIC, an 8-byte big-endian header length, the UTF-8 JSON header, the
payload (flax msgpack of the host copy of the RunnerState), then the 32-byte SHA-256 of every byte
before it, so one flipped bit anywhere (the config in the header included) is detected. The header
holds the format version, the payload's length, the update counter, the last logged step, the run
id and the resolved config. Format 1 (no trailer; the header held the payload's SHA-256 only) is
still read. A file is written to a temporary name, fsynced, then os.replace'd into place, so a
reader sees either the old set of files or the complete new one, never a torn file.
"""

import hashlib
import json
import os
import re
import time
from pathlib import Path

import jax
import numpy as np
from flax import serialization

from hackmatrix.errors import CheckpointError

MAGIC = b"HACKMATRIX-CKPT\n"
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
DIGEST_BYTES = 32
SUFFIX = ".ckpt"
NAME_RE = re.compile(r"^update_(\d{8})\.ckpt$")


def checkpoint_name(update: int) -> str:
    """Return the file name of the checkpoint taken after `update` updates."""
    return f"update_{update:08d}{SUFFIX}"


def list_checkpoints(directory) -> list:
    """Return the checkpoint paths in a directory, oldest update first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), directory / p) for p in os.listdir(directory)
             if (m := NAME_RE.match(p))]
    return [p for _, p in sorted(found)]


def host_copy(tree):
    """Return the pytree as host numpy arrays (gathered from every process on multi-host)."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        tree = multihost_utils.process_allgather(tree, tiled=True)
    return jax.tree.map(np.asarray, jax.device_get(tree))


def encode(runner_host, header: dict) -> bytes:
    """Return the bytes of a checkpoint file for a host runner state and header fields."""
    payload = serialization.to_bytes(runner_host)
    header = dict(header, format=FORMAT_VERSION, payload_bytes=len(payload),
                  written_at=time.time())
    head = json.dumps(header, sort_keys=True).encode()
    body = MAGIC + len(head).to_bytes(8, "big") + head + payload
    return body + hashlib.sha256(body).digest()


def write_atomic(path, data: bytes) -> None:
    """Write bytes to path through a fsynced temporary file and os.replace."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def save(directory, runner_host, header: dict, keep_last: int) -> Path:
    """Write the checkpoint of `runner_host` after header['update'] updates; keep the last K."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / checkpoint_name(int(header["update"]))
    write_atomic(path, encode(runner_host, header))
    for old in list_checkpoints(directory)[:-keep_last]:
        old.unlink()
    return path


def _corrupt(path, why: str) -> CheckpointError:
    """The error for a damaged file: what is wrong and how to resume anyway."""
    return CheckpointError(
        f"checkpoint '{path}' is corrupt or truncated ({why}); resume from its run directory "
        f"(`hackmatrix train --resume <run dir>` skips damaged checkpoints) or name an earlier "
        f"checkpoint of the same run")


def read_header(path) -> tuple:
    """Return (header, payload) of a checkpoint file, verifying its framing and checksum."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"cannot read checkpoint '{path}': {err.strerror}") from None
    if not data.startswith(MAGIC):
        raise CheckpointError(f"'{path}' is not a hackmatrix checkpoint (bad magic bytes)")
    start = len(MAGIC) + 8
    size = int.from_bytes(data[len(MAGIC):start], "big")
    # Format 2 is verified as a whole before its header is trusted (a flipped config value).
    body, digest = data[:-DIGEST_BYTES], data[-DIGEST_BYTES:]
    whole_ok = len(data) > start + DIGEST_BYTES and hashlib.sha256(body).digest() == digest
    try:
        header = json.loads(data[start:start + size])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _corrupt(path, "unreadable header") from None
    found = header.get("format") if isinstance(header, dict) else None
    if found not in READABLE_FORMATS:
        raise CheckpointError(f"checkpoint '{path}' has format {found!r}; this version reads "
                              f"formats {', '.join(map(str, READABLE_FORMATS))} (a newer "
                              f"hackmatrix wrote it, or the file is damaged)")
    if found == 1:
        payload = data[start + size:]
        ok = hashlib.sha256(payload).hexdigest() == header.get("sha256")
    else:
        payload = body[start + size:]
        ok = whole_ok
    if not ok or len(payload) != header.get("payload_bytes"):
        raise _corrupt(path, f"checksum mismatch, {len(payload)} of "
                             f"{header.get('payload_bytes')} payload bytes")
    return header, payload


def restore(path, target, header=None, payload=None):
    """Return the runner state stored in `path`, shaped like `target` (arrays or shape structs).

    Raises CheckpointError when the stored tree does not match the target's structure, shapes or
    dtypes (a checkpoint from another network, env count or version of the code).
    """
    if payload is None:
        _header, payload = read_header(path)
    try:
        state = serialization.msgpack_restore(payload)
        restored = serialization.from_state_dict(target, state)
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"checkpoint '{path}' does not fit this run's state: {err}") from None
    want = jax.tree_util.tree_leaves_with_path(target)
    got = jax.tree.leaves(restored)
    if len(want) != len(got):
        raise CheckpointError(f"checkpoint '{path}' holds {len(got)} arrays, this run needs "
                              f"{len(want)}")
    for (key_path, w), g in zip(want, got, strict=True):
        g = np.asarray(g)
        if tuple(w.shape) != g.shape or np.dtype(w.dtype) != g.dtype:
            name = jax.tree_util.keystr(key_path, simple=True, separator=".")
            raise CheckpointError(
                f"checkpoint '{path}' is incompatible with this run: {name} is "
                f"{g.dtype}{list(g.shape)} there, {np.dtype(w.dtype)}{list(w.shape)} here")
    return restored


def _run_dir_checkpoints(path: Path) -> list:
    """Return the checkpoints of a run directory (or of a checkpoints/ folder), oldest first."""
    for directory in (path / "checkpoints", path):
        found = list_checkpoints(directory)
        if found:
            return found
    raise CheckpointError(f"no checkpoint (update_*.ckpt) in '{path}' or "
                          f"'{path / 'checkpoints'}'")


def resolve(path_or_run_dir) -> Path:
    """Return the checkpoint file named, or the newest one of a run directory (unverified)."""
    path = Path(path_or_run_dir)
    if path.is_file():
        return path
    if path.is_dir():
        return _run_dir_checkpoints(path)[-1]
    raise CheckpointError(f"'{path}' is neither a checkpoint file nor a run directory")


def load_newest_valid(path_or_run_dir, warn) -> tuple:
    """Return (path, header, payload) of the file named, or of a run's newest valid checkpoint.

    A file named explicitly must be valid. In a run directory, damaged checkpoints (newest first)
    are skipped, each reported through `warn` with the reason, so that one torn or bit-flipped
    file does not strand the run; CheckpointError when none is valid.
    """
    path = Path(path_or_run_dir)
    if path.is_file() or not path.is_dir():
        path = resolve(path)
        return (path, *read_header(path))
    skipped = []
    for candidate in reversed(_run_dir_checkpoints(path)):
        try:
            header, payload = read_header(candidate)
        except CheckpointError as err:
            skipped.append(str(err))
            warn(f"skipping checkpoint {candidate.name}: {err}")
            continue
        if skipped:
            warn(f"resuming from {candidate}, the newest valid checkpoint")
        return candidate, header, payload
    raise CheckpointError(f"no valid checkpoint in '{path}': " + "; ".join(skipped))
