"""Resuming a run: find and verify the checkpoint, rebuild its config, apply allowed overrides."""

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

from hackmatrix.core import checkpoint as ckpt
from hackmatrix.core.config import (
    all_keys,
    config_from_dict,
    flat_dict,
    flatten,
    parse_override,
)
from hackmatrix.core.run_dir import read_run_info, run_dir_of_checkpoint
from hackmatrix.errors import CheckpointError, ConfigError

# Keys that change neither the computation nor its shapes, so a resumed run stays exact. Of
# eval.*, only the stopping rules and GIFs: the others define what the eval history compares.
# run.distributed too: the same mesh of devices trains the same, in one process or several.
RESUMABLE_PREFIXES = ("sinks", "checkpoint.", "metrics.health.", "run.compilation_cache",
                      "run.sinks_failure", "run.distributed", "eval.target", "eval.patience",
                      "eval.gif_every", "eval.gif_max_steps")


@dataclass(frozen=True)
class ResumePoint:
    """A verified checkpoint and the run it belongs to."""

    checkpoint: Path
    header: dict
    payload: bytes
    run_dir: Path
    run_info: dict


def _warn(message: str) -> None:
    print(f"hackmatrix: {message}", file=sys.stderr, flush=True)


def apply_resumable_overrides(config, overrides):
    """Return `config` with KEY=VALUE overrides that a resume allows; ConfigError for others."""
    if not overrides:
        return config
    flat = flat_dict(config)
    for text in overrides:
        key, value = parse_override(text)
        if not key.startswith(RESUMABLE_PREFIXES):
            raise ConfigError(
                f"config key '{key}' cannot change when resuming (it would change the "
                f"training itself); allowed when resuming: sinks, checkpoint.*, "
                f"metrics.health.*, run.compilation_cache, run.sinks_failure, "
                f"run.distributed, eval.target, eval.patience, eval.gif_every, "
                f"eval.gif_max_steps")
        flat[key] = value
    return config_from_dict(flat, config.explicit | {parse_override(t)[0] for t in overrides})


def prepare_resume(path_or_run_dir, overrides=(), warn=_warn) -> tuple:
    """Return (config, ResumePoint) for `hackmatrix train --resume PATH [overrides]`.

    Reads and checksums the checkpoint before anything else happens, so a corrupt or
    incompatible checkpoint fails with a CheckpointError and nothing is written or overwritten.
    Given a run directory, it resumes from the newest valid checkpoint, reporting through `warn`
    each damaged one it skipped and why.
    """
    path, header, payload = ckpt.load_newest_valid(path_or_run_dir, warn)
    try:
        flat = flatten(header["config"], all_keys())
        config = config_from_dict(flat, frozenset(header.get("explicit", ())))
    except (KeyError, ConfigError) as err:
        raise CheckpointError(f"checkpoint '{path}' holds a config this version cannot use: "
                              f"{err}") from None
    autoscaled = tuple(tuple(c) for c in header.get("autoscaled", ()))
    config = dataclasses.replace(apply_resumable_overrides(config, overrides),
                                 autoscaled=autoscaled)
    run_dir = run_dir_of_checkpoint(path)
    run_info = read_run_info(run_dir) or {"name": header.get("name") or run_dir.name,
                                          "run_id": header.get("run_id") or run_dir.name}
    if header.get("run_id") and run_info.get("run_id") != header["run_id"]:
        raise CheckpointError(f"checkpoint '{path}' belongs to run {header['run_id']}, but "
                              f"{run_dir} holds run {run_info.get('run_id')}")
    return config, ResumePoint(checkpoint=path, header=header, payload=payload, run_dir=run_dir,
                               run_info=run_info)



def config_differences(header: dict, config) -> list:
    """Return 'key (A there, B here)' for each state-shaping key where checkpoint and config differ."""
    try:
        theirs = flatten(header.get("config") or {}, all_keys())
    except ConfigError:
        return []
    ours = flat_dict(config)
    # run.* names and places the run; of it only the seed list shapes the state; eval.* none.
    return [f"{key} ({theirs[key]!r} there, {ours[key]!r} here)" for key in sorted(theirs)
            if key in ours and not key.startswith(RESUMABLE_PREFIXES)
            and (key == "run.seeds" or not key.startswith("run.")) and not key.startswith("eval.")
            and _plain(theirs[key]) != _plain(ours[key])]


def _plain(value):
    """Lists and tuples compare equal (YAML gives lists, the config holds tuples)."""
    return list(value) if isinstance(value, (list, tuple)) else value
