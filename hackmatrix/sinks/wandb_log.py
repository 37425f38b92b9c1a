"""Reads the transaction logs (`run-<id>.wandb`) that wandb keeps in a run's local directories.

wandb 0.31 ships no Python reader of these files (its reader lives in the Go wandb-core), so this
decodes the format with wandb's own record definitions (`wandb_internal_pb2.Record`). A file is a
LevelDB-style log: a 7-byte header (":W&B", magic, version), then 32 KiB blocks of chunks (crc32
u32, length u16, type u8: 1 full, 2 first, 3 middle, 4 last). wandb-core writes whole blocks only
(there is no flush), so a killed process leaves the last records unwritten, never torn ones; a
torn tail is still tolerated: reading stops at the first incomplete or unparsable record.
"""

import json
import struct
from collections.abc import Iterator
from pathlib import Path

BLOCK = 32 * 1024
HEADER = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def _payloads(data: bytes, position: int = HEADER) -> Iterator[bytes]:
    """The records of `data` from `position` (the header's end or a block boundary) on."""
    pending = b""
    while position + HEADER <= len(data):
        left_in_block = BLOCK - position % BLOCK
        if left_in_block < HEADER:
            position += left_in_block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[position:position + HEADER])
        if kind == 0 and length == 0:
            position += left_in_block
            continue
        if position + HEADER + length > len(data):
            return
        chunk = data[position + HEADER:position + HEADER + length]
        position += HEADER + length
        if kind == _FULL:
            yield chunk
        elif kind == _FIRST:
            pending = chunk
        elif kind == _MIDDLE:
            pending += chunk
        elif kind == _LAST:
            yield pending + chunk
            pending = b""


def _record(payload: bytes):
    """The wandb record of a payload, or None when it does not parse (a torn tail)."""
    from google.protobuf.message import DecodeError
    from wandb.proto import wandb_internal_pb2

    record = wandb_internal_pb2.Record()
    try:
        record.ParseFromString(payload)
    except DecodeError:
        return None
    return record


def _items(items) -> dict:
    return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items}


def read_run_log(path: str | Path) -> dict:
    """One transaction log as a dict: run_id, group, config, history rows, exit_code, artifacts."""
    data = Path(path).read_bytes()
    if data[:4] != b":W&B":
        raise ValueError(f"{path} is not a wandb transaction log")
    run = {"path": Path(path), "run_id": None, "group": None, "config": {}, "history": [],
           "exit_code": None, "artifacts": []}
    for payload in _payloads(data):
        record = _record(payload)
        if record is None:
            break
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run["run_id"] = record.run.run_id
            run["group"] = record.run.run_group or None
            run["config"].update(_items(record.run.config.update))
        elif kind == "config":
            run["config"].update(_items(record.config.update))
        elif kind == "history":
            run["history"].append(_items(record.history.item))
        elif kind == "exit":
            run["exit_code"] = record.exit.exit_code
        elif kind == "artifact":
            run["artifacts"].append((record.artifact.name, record.artifact.type))
    return run


def has_exit_record(path: str | Path) -> bool:
    """Whether the log's last two blocks hold the run's exit record: wandb-core has closed it.

    wandb-core writes a partial last block only when it closes the log, after `finish` returned;
    reading the tail alone keeps this cheap for long runs.
    """
    size = Path(path).stat().st_size
    start = max(0, (size - 1) // BLOCK - 1) * BLOCK
    with open(path, "rb") as handle:
        handle.seek(start)
        data = handle.read()
    for payload in _payloads(data, HEADER if start == 0 else 0):
        record = _record(payload)
        if record is not None and record.WhichOneof("record_type") == "exit":
            return True
    return False


def run_log_paths(directory: str | Path, run_id: str = "*") -> list[Path]:
    """The transaction logs of `run_id` under `<directory>/wandb`, oldest first.

    Offline (`offline-run-*`) and online (`run-*`) directories are named
    `<kind>-<YYYYMMDD_HHMMSS>-<id>`, so the time stamp orders them.
    """
    paths = Path(directory).glob(f"wandb/*run-*-{run_id}/run-{run_id}.wandb")
    return sorted(paths, key=lambda path: start_stamp(path.parent))


def start_stamp(run_directory: Path) -> str:
    """The YYYYMMDD_HHMMSS start time in the name of a wandb run directory."""
    return run_directory.name.removeprefix("offline-").removeprefix("run-")[:15]


def read_run_logs(directory: str | Path, run_id: str = "*") -> list[dict]:
    """Every transaction log of `run_id` under `<directory>/wandb` (oldest first), read."""
    return [read_run_log(path) for path in run_log_paths(directory, run_id)]
