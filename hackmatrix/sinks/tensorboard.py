"""The TensorBoard sink: scalars and hyperparameters in `<run dir>/<subdir>`, one run.

Scalars are written with TensorBoard's own event writer (no TensorFlow or PyTorch needed) and
flushed after every update. The flattened config is written once, as the hparams of this same run
(TensorBoard's HParams tab), not as a separate timestamped run. NONFINITE policy "keep": NaN/inf
are stored as float32 NaN/inf, which TensorBoard shows as such. Values are stored as float32
(`simple_value`), TensorBoard's scalar precision.

Resume: a START session-log event at step start_step + 1 makes TensorBoard's readers discard any
point logged after the checkpoint the run resumes from, so the resumed steps never appear twice.
A resumed sink opens its event file in a later second than the existing ones, so readers take it
last. Eval episode GIFs are image summaries (animated in the Images tab) at their update.
"""

import time
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from hackmatrix.sinks.base import Option, RunInfo, Sink
from hackmatrix.sinks.state import require_new_or_resumed, write_sink_state


def hparam_value(value):
    """TensorBoard hparams take bool, int, float or str; anything else is shown as text."""
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _wait_for_a_later_second(logdir: Path) -> None:
    """Wait until the clock's second is past every event file's creation second.

    Readers take event files in name order, whose first field is that second; within one second
    the names go on with the pid and a counter compared as text ("10" before "9"), so a resumed
    file could sort before the one it continues and its purge would hit the wrong points.
    """
    seconds = [int(p.name.split(".")[3]) for p in logdir.glob("events.out.tfevents.*")
               if p.name.split(".")[3].isdigit()]
    newest = max(seconds, default=0)
    while time.time() < newest + 1:
        time.sleep(0.05)


class TensorBoardSink(Sink):
    """Writes TensorBoard event files (pip install 'hackmatrix[tensorboard]')."""

    NAME = "tensorboard"
    REQUIRES = ("tensorboard",)
    EXTRA = "tensorboard"
    OPTIONS: ClassVar[Mapping[str, Option]] = {
        "subdir": Option((str,), "tensorboard", "directory inside the run directory"),
        "hparams": Option((bool,), True, "record the flattened config as hyperparameters"),
    }

    @classmethod
    def describe_output(cls, options: Mapping, run_dir: Path, multi_seed: bool) -> str | None:
        """The tensorboard command (a multi-seed run opens the whole group instead)."""
        if multi_seed:
            return f"TensorBoard: tensorboard --logdir {run_dir}   (the seeds side by side)"
        return (f"TensorBoard: tensorboard --logdir {run_dir / options['subdir']}   "
                f"then open http://localhost:6006")

    def __init__(self, run_info: RunInfo, **options):
        super().__init__(run_info, **options)
        from tensorboard.compat.proto.event_pb2 import Event, SessionLog
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._Event, self._Summary = Event, Summary
        require_new_or_resumed(run_info.directory, self.NAME, run_info.resumed)
        self.logdir = Path(run_info.directory) / self.options["subdir"]
        self.logdir.mkdir(parents=True, exist_ok=True)
        if run_info.resumed:
            _wait_for_a_later_second(self.logdir)
        self._writer = EventFileWriter(str(self.logdir))
        if run_info.resumed:
            self._writer.add_event(Event(
                wall_time=time.time(), step=run_info.start_step + 1,
                session_log=SessionLog(status=SessionLog.START),
            ))
        elif self.options["hparams"]:
            self._write_hparams(run_info)
        self._writer.flush()
        write_sink_state(run_info.directory, self.NAME, {"subdir": self.options["subdir"]})

    def _write_hparams(self, run_info: RunInfo) -> None:
        from tensorboard.plugins.hparams import summary_v2

        hparams = {key: hparam_value(value) for key, value in run_info.config.items()}
        if run_info.git_commit:
            hparams.setdefault("git_commit", run_info.git_commit)
        summary = summary_v2.hparams_pb(hparams, trial_id=run_info.name)
        self._writer.add_event(self._Event(wall_time=time.time(), step=0, summary=summary))

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """Write one event holding every scalar of the update, then flush."""
        summary = self._Summary(value=[
            self._Summary.Value(tag=key, simple_value=value) for key, value in metrics.items()
        ])
        self._writer.add_event(self._Event(wall_time=time.time(), step=step, summary=summary))
        self._writer.flush()

    def log_video(self, key: str, path: Path, step: int) -> None:
        """Write the GIF as an image summary at `step` (TensorBoard's Images tab animates it)."""
        from PIL import Image

        data = Path(path).read_bytes()
        with Image.open(path) as image:
            width, height = image.size
        image = self._Summary.Image(height=height, width=width, colorspace=3,
                                    encoded_image_string=data)
        summary = self._Summary(value=[self._Summary.Value(tag=key, image=image)])
        self._writer.add_event(self._Event(wall_time=time.time(), step=step, summary=summary))
        self._writer.flush()

    def flush(self) -> None:
        """Flush the event file."""
        self._writer.flush()

    def close(self, status: str) -> None:
        """Flush and close the event file."""
        self._writer.close()
