"""The JSONL sink: one JSON object per update, appended to a file in the run directory.

Each line is `{"step": <update>, "time": <unix seconds>, "<metric>": <value>, ...}`. NONFINITE
policy "keep": standard JSON has no NaN/inf, so a non-finite value is written as null (the key is
kept, the pipeline reports it). On resume, lines after `start_step` (logged after the checkpoint
the run resumes from) are removed first, so the file never holds a step twice, and so is a torn
last line (the process was killed while writing it).
"""

import json
import logging
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import ClassVar

from hackmatrix.errors import ConfigError, SinkError
from hackmatrix.options import Option
from hackmatrix.sinks.base import RunInfo, Sink
from hackmatrix.sinks.state import require_new_or_resumed, write_sink_state

log = logging.getLogger(__name__)


def read_jsonl(path: str | Path) -> list[dict]:
    """Read back a metrics file written by this sink (one dict per update)."""
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


class JsonlSink(Sink):
    """Appends one JSON line per update to `<run dir>/<filename>`; needs no extra."""

    NAME = "jsonl"
    OPTIONS: ClassVar[Mapping[str, Option]] = {"filename": Option((str,), "metrics.jsonl", "file name inside the run directory")}

    @classmethod
    def check_options(cls, options: Mapping) -> None:
        """The file must stay inside the run directory: a plain relative path without '..'."""
        name = PurePosixPath(options["filename"])
        if not options["filename"] or name.is_absolute() or ".." in name.parts:
            raise ConfigError(f"sink 'jsonl': option filename must be a relative path inside the "
                              f"run directory (no leading '/', no '..'), got "
                              f"{options['filename']!r}")

    @classmethod
    def describe_output(cls, options: Mapping, run_dir: Path, multi_seed: bool) -> str | None:
        """Where the metrics file is (a multi-seed run's seed directories are named instead)."""
        return None if multi_seed else f"metrics:     {run_dir / options['filename']}"

    def __init__(self, run_info: RunInfo, **options):
        super().__init__(run_info, **options)
        self.path = run_info.directory / self.options["filename"]
        require_new_or_resumed(run_info.directory, self.NAME, run_info.resumed)
        if run_info.resumed:
            self._truncate_after(run_info.start_step)
        elif self.path.exists():
            raise SinkError(
                f"{self.path} already exists; resume that run or start the new one in a new "
                "run directory"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_sink_state(run_info.directory, self.NAME, {"filename": self.options["filename"]})
        # Open for the whole run (closed in close), line-buffered: one write per update.
        self._file = open(self.path, "a", buffering=1)  # noqa: SIM115

    def _truncate_after(self, start_step: int) -> None:
        """Drop the lines logged after the resume point and a torn last line (atomically)."""
        if not self.path.exists():
            return
        lines = [line for line in self.path.read_text().splitlines() if line.strip()]
        rows = []
        for number, line in enumerate(lines, 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                if number < len(lines):
                    raise SinkError(f"{self.path} line {number} is not JSON; repair or remove "
                                    "that line, then resume again") from None
                log.warning("jsonl: removed the torn last line of %s (the process was killed "
                            "while writing it)", self.path)
        kept = [row for row in rows if row["step"] <= start_step]
        removed = len(rows) - len(kept)
        if removed:
            log.warning("jsonl: removed %d line(s) logged after update %d, which the resumed "
                        "run logs again", removed, start_step)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("".join(json.dumps(row) + "\n" for row in kept))
        os.replace(tmp, self.path)

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """Append one line."""
        row = {"step": step, "time": round(time.time(), 3)}
        row.update({k: (v if math.isfinite(v) else None) for k, v in metrics.items()})
        self._file.write(json.dumps(row, allow_nan=False) + "\n")

    def flush(self) -> None:
        """Flush the file to the OS."""
        self._file.flush()

    def close(self, status: str) -> None:
        """Close the file."""
        if not self._file.closed:
            self._file.close()
