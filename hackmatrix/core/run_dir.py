"""Run directories: runs/<name>-<NNN>/ with the resolved config, run.json and checkpoints/."""

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import yaml

from hackmatrix.core.checkpoint import write_atomic
from hackmatrix.core.config import Config, is_multi_seed, seed_list, to_dict
from hackmatrix.errors import ConfigError

RUN_FILE = "run.json"
CONFIG_FILE = "config.yaml"
CHECKPOINT_DIR = "checkpoints"


def git_commit() -> str | None:
    """Return the current git commit of the working directory, or None outside a checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def create_run_dir(config: Config) -> tuple:
    """Create the next free runs_dir/<name>-<NNN> and write its config; return (path, run_info).

    `run_info` is the dict stored in run.json: name, run_id, created, git_commit, autoscaled,
    and for a multi-seed run the seed list (seeds).
    """
    root = Path(config.run.runs_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"config key 'run.runs_dir' = '{root}' cannot be created: "
                          f"{err.strerror}") from None
    taken = [int(p.name.rsplit("-", 1)[1]) for p in root.iterdir()
             if p.name.startswith(config.run.name + "-")
             and p.name.rsplit("-", 1)[1].isdigit()]
    index = max(taken, default=0) + 1
    while True:
        path = root / f"{config.run.name}-{index:03d}"
        try:
            os.mkdir(path)  # atomic: two concurrent runs never share a directory
            break
        except FileExistsError:
            index += 1
    (path / CHECKPOINT_DIR).mkdir()
    info = {
        "name": path.name,
        "run_id": uuid.uuid4().hex,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git_commit": git_commit(),
        "autoscaled": [list(c) for c in config.autoscaled],
    }
    if is_multi_seed(config):
        info["seeds"] = list(seed_list(config))
    write_atomic(path / CONFIG_FILE, yaml.safe_dump(to_dict(config), sort_keys=False).encode())
    write_atomic(path / RUN_FILE, json.dumps(info, indent=2).encode())
    return path, info


def read_run_info(path) -> dict:
    """Return the run.json of a run directory ({} when absent)."""
    file = Path(path) / RUN_FILE
    return json.loads(file.read_text()) if file.is_file() else {}


def run_dir_of_checkpoint(checkpoint_path) -> Path:
    """Return the run directory a checkpoint file belongs to (its checkpoints/ folder's parent)."""
    parent = Path(checkpoint_path).resolve().parent
    return parent.parent if parent.name == CHECKPOINT_DIR else parent
