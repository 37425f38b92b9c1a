"""Reads the history and config that wandb wrote into an offline run directory.

A `run-<id>.wandb` file is a LevelDB-style log: a 7-byte header (":W&B", magic, version), then
32 KiB blocks of chunks (crc32 u32, length u16, type u8: 1 full, 2 first, 3 middle, 4 last), each
record a serialized `wandb_internal_pb2.Record`.
"""

import json
import struct
from pathlib import Path

from wandb.proto import wandb_internal_pb2

BLOCK = 32 * 1024
HEADER = 7


def _payloads(path: Path):
    data = path.read_bytes()
    if data[:4] != b":W&B":
        raise ValueError(f"{path} is not a wandb run file")
    position, pending = HEADER, b""
    while position + HEADER <= len(data):
        left_in_block = BLOCK - position % BLOCK
        if left_in_block < HEADER:
            position += left_in_block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[position:position + HEADER])
        if kind == 0 and length == 0:
            position += left_in_block
            continue
        chunk = data[position + HEADER:position + HEADER + length]
        position += HEADER + length
        if kind == 1:
            yield chunk
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            yield pending + chunk
            pending = b""


def read_offline_runs(run_dir: Path) -> list[dict]:
    """One dict per offline run directory (oldest first): run_id, config, history rows, exit."""
    runs = []
    for path in sorted(Path(run_dir).glob("wandb/offline-run-*/run-*.wandb")):
        run = {"path": path, "run_id": None, "group": None, "config": {}, "history": [],
               "exit_code": None, "artifacts": []}
        for payload in _payloads(path):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(payload)
            kind = record.WhichOneof("record_type")
            if kind == "run":
                run["run_id"] = record.run.run_id
                run["group"] = record.run.run_group or None
                run["config"].update(
                    {item.key: json.loads(item.value_json) for item in record.run.config.update})
            elif kind == "config":
                run["config"].update(
                    {item.key: json.loads(item.value_json) for item in record.config.update})
            elif kind == "history":
                run["history"].append({
                    item.key or "/".join(item.nested_key): json.loads(item.value_json)
                    for item in record.history.item
                })
            elif kind == "exit":
                run["exit_code"] = record.exit.exit_code
            elif kind == "artifact":
                run["artifacts"].append((record.artifact.name, record.artifact.type))
        runs.append(run)
    return runs
