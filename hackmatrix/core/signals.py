"""SIGINT and SIGTERM during training: an orderly stop between chunks, or Interrupted before them."""

import signal
import sys
import threading


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM before the training loop started (nothing to checkpoint yet)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Signals:
    """SIGINT and SIGTERM -> a flag checked between chunks, once the loop is armed.

    Before `arm` (compiling, opening sinks) a signal raises Interrupted at once. Armed, the first
    signal asks for the orderly stop; later ones only say that it is under way, because aborting
    then would lose the checkpoint or the sinks' last points (SIGKILL still aborts).
    """

    HANDLED = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.signum = None
        self.armed = False
        self._previous = {}

    @property
    def requested(self) -> bool:
        """True once a signal asked the armed loop to stop."""
        return self.signum is not None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in self.HANDLED}
        return self

    def _handle(self, signum, frame):
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        if not self.armed:
            raise Interrupted(signum)
        if self.requested:
            print(f"\n{name}: shutdown already in progress (finishing the chunk, checkpointing, "
                  "flushing every sink); please wait (SIGKILL aborts without saving)",
                  file=sys.stderr, flush=True)
            return
        self.signum = signum
        print(f"\n{name}: finishing the current chunk, then checkpointing and flushing every "
              "sink", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
