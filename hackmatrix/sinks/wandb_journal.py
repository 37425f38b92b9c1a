"""The wandb sink's journal: every point it hands to wandb, so that a resumed run can log again the
ones that wandb never wrote.

wandb-core writes its transaction log in whole 32 KiB blocks and offers no flush, so a process
killed with SIGKILL loses the points of the last, unwritten block, even those before the
checkpoint the run resumes from (which the resumed run does not recompute). The journal is
appended line by line and flushed with the other sinks before every checkpoint; on resume, the
points it holds that wandb's logs lack are logged again, with their original values.
"""

import json
import os
from collections.abc import Mapping
from pathlib import Path

JOURNAL = "hackmatrix-points.jsonl"


class WandbJournal:
    """An append-only file of `{"update": u, "metrics": {...}}` lines in the run's wandb dir."""

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / "wandb" / JOURNAL
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = None

    def read(self) -> list[dict]:
        """The journalled points, oldest first; a torn last line (a kill mid-write) is skipped."""
        if not self.path.exists():
            return []
        rows = []
        for line in self.path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break
        return rows

    def keep_through(self, update: int) -> list[dict]:
        """Drop the points after `update` (the resumed run logs them again); return those kept."""
        kept = [row for row in self.read() if row["update"] <= update]
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("".join(json.dumps(row) + "\n" for row in kept))
        os.replace(tmp, self.path)
        return kept

    def append(self, update: int, metrics: Mapping[str, float]) -> None:
        """Record one point (NaN/inf are kept: Python's json writes them)."""
        if self._file is None:
            self._file = open(self.path, "a", buffering=1)  # noqa: SIM115 (closed in close)
        self._file.write(json.dumps({"update": update, "metrics": dict(metrics)}) + "\n")

    def flush(self) -> None:
        """Hand every line to the OS, so that it survives the process."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None
