"""The Weights & Biases sink: offline by default (no account, no network), online when configured.

Offline runs are written under `<run dir>/wandb/offline-run-*` and uploaded later with
`wandb sync <run dir>/wandb/offline-run-*`. The flattened config is the run's config; every point
also carries `update` (the PPO update number) and the x-axis of every chart is `x_axis`
(default `perf/env_steps`). Checkpoints become artifacts of type `artifact_type`. `finish` is
bounded by `finish_timeout_s`. NONFINITE policy "keep": wandb stores NaN/inf as such. Multi-seed
runs: each seed is its own wandb run in the group RunInfo.group (the run directory's name) unless
the `group` option names another.

Resume: the same wandb run id, in a new `offline-run-*` (or `run-*`) directory, started in a later
second than the existing ones so that its name sorts after them. The sink reads the run's earlier
transaction logs (`wandb_log`): updates they already hold are not logged again (the resumed run
recomputes the same values), points that wandb-core never wrote before a SIGKILL are logged again
from the sink's journal (`wandb_journal`), and wandb's own step goes on after the last one used.
So every update is one point, at strictly increasing wandb steps across the directories, and
`wandb sync` of them (in start order, as `wandb sync` does for the files of one run) gives one run
with one point per update. Exported policies become artifacts of type `model`; eval episode GIFs
`wandb.Video`s (each in a row of its own, with its `update`).
"""

import logging
import re
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from hackmatrix.errors import ConfigError
from hackmatrix.sinks.base import Option, RunInfo, Sink
from hackmatrix.sinks.state import require_new_or_resumed, write_sink_state
from hackmatrix.sinks.wandb_journal import WandbJournal
from hackmatrix.sinks.wandb_log import has_exit_record, read_run_logs, start_stamp

log = logging.getLogger(__name__)

EXIT_CODES = {"finished": 0, "interrupted": 130, "failed": 1}
_ID_INVALID = re.compile(r"[^A-Za-z0-9_-]")
_ARTIFACT_INVALID = re.compile(r"[^A-Za-z0-9_.-]")


def _wait_for_a_later_second(directory: Path) -> None:
    """Wait until wandb's next run directory name sorts after every existing one.

    The name carries the start time to the second; a resumed run in the same second would get
    the very name of the run it continues and overwrite its transaction log.
    """
    newest = max((start_stamp(path) for path in directory.glob("wandb/*run-*")), default="")
    while datetime.now().strftime("%Y%m%d_%H%M%S") <= newest:
        time.sleep(0.05)


def _held(logs: list[dict]) -> tuple[int, int]:
    """The last update and the last wandb step that a run's transaction logs hold (0, -1 if none)."""
    rows = [row for log in logs for row in log["history"]]
    return (max((int(row["update"]) for row in rows if "update" in row), default=0),
            max((int(row["_step"]) for row in rows if "_step" in row), default=-1))


class WandbSink(Sink):
    """Logs to Weights & Biases (pip install 'hackmatrix[wandb]')."""

    NAME = "wandb"
    REQUIRES = ("wandb",)
    EXTRA = "wandb"
    OPTIONS: ClassVar[Mapping[str, Option]] = {
        "project": Option((str,), "hackmatrix", "wandb project"),
        "entity": Option((str, type(None)), None, "wandb entity (user or team)"),
        "mode": Option((str,), "offline", "offline, online or disabled",
                       choices=("offline", "online", "disabled")),
        "group": Option((str, type(None)), None, "run group (default: a multi-seed run's group)"),
        "tags": Option((list,), [], "run tags"),
        "x_axis": Option((str,), "perf/env_steps", "metric used as every chart's x-axis"),
        "artifact_type": Option((str,), "checkpoint", "type of checkpoint artifacts"),
        "finish_timeout_s": Option((float,), 60.0, "longest wait for wandb to finish at close"),
    }

    @classmethod
    def check_options(cls, options: Mapping) -> None:
        """The finish timeout must be positive; tags must be strings."""
        if options["finish_timeout_s"] <= 0:
            raise ConfigError("sink 'wandb': option finish_timeout_s must be positive")
        if not all(isinstance(tag, str) for tag in options["tags"]):
            raise ConfigError("sink 'wandb': option tags must be a list of strings")

    @classmethod
    def describe_output(cls, options: Mapping, run_dir: Path, multi_seed: bool) -> str | None:
        """wandb prints its own run link (or the offline sync command) while it runs."""
        return "Weights & Biases: see the run link printed by wandb above"

    def __init__(self, run_info: RunInfo, **options):
        super().__init__(run_info, **options)
        import wandb

        self._wandb = wandb
        state = require_new_or_resumed(run_info.directory, self.NAME, run_info.resumed)
        self.run_id = state.get("run_id") or _ID_INVALID.sub("-", run_info.run_id)[:64]
        settings = wandb.Settings(
            silent=True,
            console="off",  # the console sink owns the terminal; wandb must not capture it
            finish_timeout=float(self.options["finish_timeout_s"]),
        )
        run_info.directory.mkdir(parents=True, exist_ok=True)
        self._held_through, last_step = _held(read_run_logs(run_info.directory, self.run_id))
        self._journal = WandbJournal(run_info.directory)
        replay = []
        if run_info.resumed:
            replay = [row for row in self._journal.keep_through(run_info.start_step)
                      if row["update"] > self._held_through]
            _wait_for_a_later_second(run_info.directory)
        config = dict(run_info.config)
        if run_info.git_commit:
            config.setdefault("git_commit", run_info.git_commit)
        self.run = wandb.init(
            project=self.options["project"],
            entity=self.options["entity"],
            dir=str(run_info.directory),
            id=self.run_id,
            name=run_info.name,
            group=self.options["group"] or run_info.group,
            tags=self.options["tags"] or None,
            config=config,
            mode=self.options["mode"],
            resume="allow" if state else None,
            reinit="create_new",
            settings=settings,
        )
        x_axis = self.options["x_axis"]
        self.run.define_metric(x_axis)
        self.run.define_metric("*", step_metric=x_axis)
        self._next_step = max(last_step + 1, int(self.run.step))
        write_sink_state(run_info.directory, self.NAME,
                         {"run_id": self.run_id, "project": self.options["project"]})
        for row in replay:
            self._log(row["metrics"], row["update"])

    def _log(self, metrics: Mapping[str, float], update: int) -> None:
        self._journal.append(update, metrics)
        self.run.log({**metrics, "update": update}, step=self._next_step)
        self._next_step += 1

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """One `run.log` per update not already in the run, at wandb's next step."""
        if step > self._held_through:
            self._log(metrics, step)

    def log_artifact(self, path: str | Path) -> None:
        """Log a checkpoint file or directory as an artifact of this run."""
        path = Path(path)
        name = _ARTIFACT_INVALID.sub("-", f"{self.run_id}-{self.options['artifact_type']}")
        artifact = self._wandb.Artifact(name, type=self.options["artifact_type"])
        if path.is_dir():
            artifact.add_dir(str(path))
        else:
            artifact.add_file(str(path))
        self.run.log_artifact(artifact)

    def flush(self) -> None:
        """Make the journal durable (wandb-core has no flush; the journal stands in for it)."""
        self._journal.flush()

    def log_video(self, key: str, path: Path, step: int) -> None:
        """Log an eval episode GIF as a `wandb.Video` in a row of its own, tagged with its update."""
        video = self._wandb.Video(str(path), format="gif")
        self.run.log({key: video, "update": step}, step=self._next_step)
        self._next_step += 1

    def log_export(self, path: Path, name: str) -> None:
        """Log an exported policy directory as a `model` artifact (final or best)."""
        artifact_name = _ARTIFACT_INVALID.sub("-", f"{self.run_id}-policy-{name}")
        artifact = self._wandb.Artifact(artifact_name, type="model")
        artifact.add_dir(str(path))
        self.run.log_artifact(artifact)

    def close(self, status: str) -> None:
        """Finish the run (bounded by finish_timeout_s) with an exit code for the status."""
        self._journal.close()
        self.run.finish(exit_code=EXIT_CODES[status])
        self._wait_for_the_log_to_close()

    def _wait_for_the_log_to_close(self) -> None:
        """Wait (up to finish_timeout_s) until wandb-core has written the whole log.

        `finish` returns before wandb-core closes the transaction log; a resume in the same
        process, or the process ending, would otherwise meet a log without its last block.
        """
        if self.options["mode"] == "disabled":
            return
        path = Path(self.run.dir).parent / f"run-{self.run_id}.wandb"
        deadline = time.monotonic() + self.options["finish_timeout_s"]
        while not (path.exists() and has_exit_record(path)):
            if time.monotonic() > deadline:
                log.warning("wandb: %s was not closed within finish_timeout_s", path)
                return
            time.sleep(0.02)
