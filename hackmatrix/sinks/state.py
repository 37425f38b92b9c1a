"""`sinks_state.json` in the run directory: what each sink needs to continue its run on resume.

The file maps a sink name to a small JSON object of that sink's own (e.g. the MLflow run id). Sinks
write from their own threads, so every read-modify-write holds one process-wide lock and replaces
the file atomically.
"""

import json
import os
import threading
from pathlib import Path
from typing import Any

from hackmatrix.errors import SinkError

STATE_FILE = "sinks_state.json"
_LOCK = threading.Lock()


def _load(directory: Path) -> dict[str, Any]:
    path = Path(directory) / STATE_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise SinkError(f"{path} is unreadable ({err}); restore it or start a new run") from err
    if not isinstance(data, dict):
        raise SinkError(f"{path} does not hold a JSON object; restore it or start a new run")
    return data


def read_sink_state(directory: str | Path, sink: str) -> dict[str, Any]:
    """The state saved by `sink` in `directory` ({} when it saved none)."""
    with _LOCK:
        entry = _load(Path(directory)).get(sink, {})
    return dict(entry) if isinstance(entry, dict) else {}


def write_sink_state(directory: str | Path, sink: str, state: dict[str, Any]) -> None:
    """Replace the state of `sink` in `directory`, leaving the other sinks' entries intact."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with _LOCK:
        data = _load(directory)
        data[sink] = state
        tmp = directory / f".{STATE_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, directory / STATE_FILE)


def require_new_or_resumed(directory: str | Path, sink: str, resumed: bool) -> dict[str, Any]:
    """Return the saved state on resume; refuse to start a second run over an existing one."""
    state = read_sink_state(directory, sink)
    if state and not resumed:
        raise SinkError(
            f"the run directory {directory} already holds a '{sink}' run; resume it "
            "(RunInfo.resumed=True) or start the new run in a new directory"
        )
    return state
