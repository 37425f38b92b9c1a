"""The run-directory lock: one training process per run directory at a time.

`run.lock` in the run directory is locked with flock(2) while a process trains there and holds that
process's pid. The kernel drops the lock when the process ends however it ends (SIGKILL and power
loss included), so a stale file never blocks a later `--resume`; only a live holder does.
"""

import fcntl
import os
from pathlib import Path

from hackmatrix.errors import HackmatrixError

LOCK_FILE = "run.lock"


class RunLockedError(HackmatrixError):
    """Another live process is training in the run directory."""


class RunLock:
    """An exclusive lock on a run directory, released by `release` or by the process's end."""

    def __init__(self, run_dir):
        self.path = Path(run_dir) / LOCK_FILE
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(self._fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(self._fd)
            raise RunLockedError(
                f"run directory '{run_dir}' is in use by process {holder} (training or resuming "
                f"it); wait for that process to end or stop it (Ctrl-C / kill {holder}) before "
                f"resuming this run") from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        """Unlock; the file stays (removing it could race with a process locking it anew)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
