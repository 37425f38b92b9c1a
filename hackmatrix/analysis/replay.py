"""Replay files of `hackmatrix watch --record`: one watched episode as plain JSON.

A replay is `{"format": "hackmatrix-replay", "version": 1, "meta": {...}, "frames": [...]}`
(gzip-compressed when the file name ends in .gz). Frame t holds the game state before action t as
a canonical scenario (docs/scenarios.md), its 28 valid-action flags, and the agent's decision:
`probs` (28 probabilities), `value`, `action`, then the step's `reward` and its 15-component
`breakdown`. The last frame is the final state, whose decision fields are null. Playing a replay
back needs only the scenario reader and the renderer of the reference engine: no network, no env,
no JAX compilation.
"""

import gzip
import json
from pathlib import Path

from hackmatrix.env.constants import NUM_ACTIONS, REWARD_KEYS
from hackmatrix.errors import HackmatrixError

FORMAT = "hackmatrix-replay"
VERSION = 1
DECISION_KEYS = ("probs", "value", "action", "reward", "breakdown")
FRAME_KEYS = ("t", "scenario", "mask") + DECISION_KEYS


class ReplayError(HackmatrixError):
    """A replay file that cannot be read or is not a hackmatrix replay."""


def _open(path: Path, mode: str):
    if path.name.endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def write_replay(path, meta: dict, frames: list) -> Path:
    """Write a replay file (gzip when the name ends in .gz); return its path."""
    path = Path(path)
    data = {"format": FORMAT, "version": VERSION, "meta": meta, "frames": frames}
    with _open(path, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    return path


def _check_frame(i: int, frame, last: bool) -> None:
    if not isinstance(frame, dict) or set(frame) != set(FRAME_KEYS):
        raise ReplayError(f"frame {i} must be a mapping with the keys {', '.join(FRAME_KEYS)}")
    if not isinstance(frame["scenario"], dict):
        raise ReplayError(f"frame {i}: scenario must be a mapping")
    if not isinstance(frame["mask"], list) or len(frame["mask"]) != NUM_ACTIONS:
        raise ReplayError(f"frame {i}: mask must be a list of {NUM_ACTIONS} flags")
    if last:
        return
    action = frame["action"]
    if not isinstance(action, int) or not 0 <= action < NUM_ACTIONS:
        raise ReplayError(f"frame {i}: action must be an integer in [0, {NUM_ACTIONS}), "
                          f"got {action!r}")
    if not isinstance(frame["probs"], list) or len(frame["probs"]) != NUM_ACTIONS:
        raise ReplayError(f"frame {i}: probs must be a list of {NUM_ACTIONS} numbers")
    if not isinstance(frame["breakdown"], dict) or set(frame["breakdown"]) != set(REWARD_KEYS):
        raise ReplayError(f"frame {i}: breakdown must map the 15 reward components")


def read_replay(path) -> tuple:
    """Read and check a replay file; return (meta, frames)."""
    path = Path(path)
    try:
        with _open(path, "r") as f:
            data = json.load(f)
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ReplayError(f"cannot read replay file '{path}': {err}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ReplayError(f"'{path}' is not a hackmatrix replay (written by hackmatrix watch "
                          f"--record)")
    if data.get("version") != VERSION:
        raise ReplayError(f"replay '{path}' has version {data.get('version')!r}; this version "
                          f"reads version {VERSION} only")
    frames = data.get("frames")
    if not isinstance(frames, list) or not frames:
        raise ReplayError(f"replay '{path}' holds no frames")
    for i, frame in enumerate(frames):
        _check_frame(i, frame, last=i == len(frames) - 1)
    return data.get("meta") or {}, frames
