"""The Weights & Biases sink: offline by default (no account, no network), online when configured.

Offline runs are written under `<run dir>/wandb/offline-run-*` and can be uploaded later with
`wandb sync <run dir>/wandb/offline-run-*`. The flattened config is the run's config; every point
also carries `update` (the PPO update number) and the x-axis of every chart is `x_axis`
(default `perf/env_steps`). wandb's own step is a counter kept in sinks_state.json that never goes
back, so a resumed run (same wandb run id) never has points dropped for a repeated step, even if it
resumes from a checkpoint older than the last logged update. Checkpoints become artifacts of type
`artifact_type`; exported policies artifacts of type `model`; eval episode GIFs `wandb.Video`s
(each in a row of its own, with its `update`). `finish` is bounded by `finish_timeout_s`. NONFINITE policy "keep": wandb stores
NaN/inf as such. Multi-seed runs: each seed is its own wandb run in the group RunInfo.group (the
run directory's name) unless the `group` option names another.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from hackmatrix.errors import ConfigError
from hackmatrix.sinks.base import Option, RunInfo, Sink
from hackmatrix.sinks.state import require_new_or_resumed, write_sink_state

EXIT_CODES = {"finished": 0, "interrupted": 130, "failed": 1}
_ID_INVALID = re.compile(r"[^A-Za-z0-9_-]")
_ARTIFACT_INVALID = re.compile(r"[^A-Za-z0-9_.-]")


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
        self._next_step = max(int(state.get("next_step", 0)), int(self.run.step))
        self._save_state()

    def _save_state(self) -> None:
        write_sink_state(self.run_info.directory, self.NAME, {
            "run_id": self.run_id, "project": self.options["project"],
            "next_step": self._next_step,
        })

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """One `run.log` per update, at wandb's own ever-increasing step."""
        row = dict(metrics)
        row["update"] = step
        self.run.log(row, step=self._next_step)
        self._next_step += 1
        self._save_state()

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

    def log_video(self, key: str, path: Path, step: int) -> None:
        """Log an eval episode GIF as a `wandb.Video` in a row of its own, tagged with its update."""
        video = self._wandb.Video(str(path), format="gif")
        self.run.log({key: video, "update": step}, step=self._next_step)
        self._next_step += 1
        self._save_state()

    def log_export(self, path: Path, name: str) -> None:
        """Log an exported policy directory as a `model` artifact (final or best)."""
        artifact_name = _ARTIFACT_INVALID.sub("-", f"{self.run_id}-policy-{name}")
        artifact = self._wandb.Artifact(artifact_name, type="model")
        artifact.add_dir(str(path))
        self.run.log_artifact(artifact)

    def close(self, status: str) -> None:
        """Finish the run (bounded by finish_timeout_s) with an exit code for the status."""
        self.run.finish(exit_code=EXIT_CODES[status])
        self._save_state()
