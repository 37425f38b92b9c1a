"""The MLflow sink: one experiment, one MLflow run per training run, one batched call per update.

Default tracking store: the embedded `sqlite:///mlflow.db` (relative to the working directory);
any tracking URI works, a server included. Params = the flattened config (values cut to MLflow's
6000 characters). Metric and param names (two separate name spaces) are made valid for MLflow (characters other than
alphanumerics, `_ - . : /` and space become `_`); two names that would become the same MLflow name
are a collision: the later one gets a `_2`, `_3`... suffix and a warning, and the mapping is kept in
sinks_state.json so that a resumed run uses the same names. Checkpoints go to the run's artifacts
under `artifact_path`, eval episode GIFs under `episodes/`, the exported final and best policies
under `exports/final/` and `exports/best/`. NONFINITE policy "keep": MLflow stores NaN as NaN and +-inf as +-1.8e308.

Resume: the MLflow run id is kept in sinks_state.json; a resumed run reopens that run. Points that
the run already holds after the resume point (logged before a SIGKILL, after the last checkpoint)
are not logged again: the resumed run recomputes the same values, and MLflow cannot replace a
point, so logging them would store each of those steps twice.

Multi-seed runs (RunInfo.group_id set): each seed is a child run (tag `mlflow.parentRunId`, so the
MLflow UI nests it) of one parent run per group. The parent carries the group's params (the
config without `run.seed`, with the seed list) and the tag `hackmatrix.group_parent` = group id,
by which the first seed's sink creates it and every other seed's sink, also on resume, finds it.
Each child marks the parent running when it opens and ends it with its own status when it closes
(the seeds of a group always end together, with one status).
"""

import contextlib
import fcntl
import logging
import os
import posixpath
import re
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from hackmatrix.errors import SinkError
from hackmatrix.sinks.base import Option, RunInfo, Sink
from hackmatrix.sinks.state import require_new_or_resumed, write_sink_state

log = logging.getLogger(__name__)

MAX_PARAM_VALUE = 6000
MAX_NAME = 250
BATCH_METRICS = 1000
BATCH_PARAMS = 100
_INVALID = re.compile(r"[^A-Za-z0-9_\-. :/]")
RUN_STATUS = {"finished": "FINISHED", "interrupted": "KILLED", "failed": "FAILED"}
PARENT_TAG = "hackmatrix.group_parent"
EPISODES_PATH = "episodes"
EXPORTS_PATH = "exports"

# MLflow's own client retries a refused server for minutes; this check fails in seconds instead.
CONNECT_TIMEOUT_S = 5.0


def check_server_reachable(uri: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise SinkError at once when an http(s) tracking server does not accept connections."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout_s).close()
    except OSError as err:
        raise SinkError(f"mlflow: the tracking server {uri} is unreachable "
                        f"({err.strerror or err}); start it, or set the sink's tracking_uri to "
                        f"a reachable server or a local store (sqlite:///mlflow.db)") from None


@contextlib.contextmanager
def sqlite_store_lock(uri: str):
    """Hold an flock on a sqlite store's directory (no-op for other stores).

    Two runs opening a fresh store at once would both create its tables (or the experiment),
    and the second would fail with "table experiments already exists".
    """
    if not uri.startswith("sqlite:///") or ":memory:" in uri:
        yield
        return
    directory = Path(uri[len("sqlite:///"):]).parent
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError as err:
        raise SinkError(f"mlflow: the directory of the tracking store {uri} cannot be opened "
                        f"({err.strerror}); create it or choose another tracking_uri") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


class MlflowNames:
    """Maps hackmatrix names to valid, distinct MLflow names, remembering every choice."""

    def __init__(self, known: Mapping[str, str] | None = None):
        self.names: dict[str, str] = dict(known or {})
        self._owner = {mlflow_name: name for name, mlflow_name in self.names.items()}
        self.changed = False

    @staticmethod
    def valid_form(name: str) -> str:
        """`name` with invalid characters replaced and path-like oddities removed."""
        form = _INVALID.sub("_", name)[:MAX_NAME]
        if form.startswith("/") or posixpath.normpath(form) != form:
            form = form.replace("/", "_")
        return form

    def __call__(self, name: str) -> str:
        """The MLflow name of `name` (assigned on first use)."""
        known = self.names.get(name)
        if known is not None:
            return known
        base = self.valid_form(name)
        candidate, suffix = base, 2
        while candidate in self._owner:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        if candidate != base:
            log.warning("mlflow: %r and %r both become %r in MLflow; logging %r as %r",
                        self._owner[base], name, base, name, candidate)
        self.names[name] = candidate
        self._owner[candidate] = name
        self.changed = True
        return candidate


class MlflowSink(Sink):
    """Logs to an MLflow tracking store (pip install 'hackmatrix[mlflow]')."""

    NAME = "mlflow"
    REQUIRES = ("mlflow",)
    EXTRA = "mlflow"
    OPTIONS: ClassVar[Mapping[str, Option]] = {
        "tracking_uri": Option((str,), "sqlite:///mlflow.db", "tracking store or server URI"),
        "experiment": Option((str,), "hackmatrix", "experiment name (created if missing)"),
        "run_name": Option((str, type(None)), None, "MLflow run name (default: the run's name)"),
        "artifact_location": Option((str, type(None)), None,
                                    "artifact root of a newly created experiment"),
        "artifact_path": Option((str,), "checkpoints", "artifact folder of checkpoints"),
        "tags": Option((dict,), {}, "extra run tags"),
    }

    @classmethod
    def describe_output(cls, options: Mapping, run_dir: Path, multi_seed: bool) -> str | None:
        """The MLflow UI command for a local store, or the server's address."""
        uri, experiment = options["tracking_uri"], options["experiment"]
        if uri.startswith(("http://", "https://", "databricks")):
            return f"MLflow: open {uri} (experiment '{experiment}')"
        return (f"MLflow:      mlflow ui --backend-store-uri {uri}   then open "
                f"http://127.0.0.1:5000 (experiment '{experiment}')")

    def __init__(self, run_info: RunInfo, **options):
        super().__init__(run_info, **options)
        check_server_reachable(self.options["tracking_uri"])
        with sqlite_store_lock(self.options["tracking_uri"]):
            self._open(run_info)

    def _open(self, run_info: RunInfo) -> None:
        from mlflow.entities import Metric, Param
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        self._Metric, self._Param = Metric, Param
        uri = self.options["tracking_uri"]
        self.client = MlflowClient(tracking_uri=uri)
        state = require_new_or_resumed(run_info.directory, self.NAME, run_info.resumed)
        self.names = MlflowNames(state.get("names"))
        self.param_names = MlflowNames(state.get("param_names"))
        self.parent_id = None
        if run_info.group_id:
            self.parent_id = self._parent_run(run_info)
            self.client.update_run(self.parent_id, status="RUNNING")
        if state.get("run_id"):
            self.run_id = state["run_id"]
            try:
                self.client.get_run(self.run_id)
            except MlflowException as err:
                raise SinkError(
                    f"mlflow: run {self.run_id} (from sinks_state.json) is not in the tracking "
                    f"store {uri}; use the tracking_uri it was logged to ({state.get('tracking_uri')})"
                ) from err
            self.client.update_run(self.run_id, status="RUNNING")
            self.client.set_tag(self.run_id, "hackmatrix.resumed_at_update",
                                str(run_info.start_step))
            self._logged = self._last_steps()
        else:
            self.run_id = self._create_run(run_info)
            self._logged = {}
        self._save_state()

    def _last_steps(self) -> dict[str, int]:
        """Return the last step each metric of the reopened run already holds."""
        keys = self.client.get_run(self.run_id).data.metrics
        return {key: max(m.step for m in self.client.get_metric_history(self.run_id, key))
                for key in keys}

    def _experiment_id(self) -> str:
        experiment = self.client.get_experiment_by_name(self.options["experiment"])
        if experiment is None:
            return self.client.create_experiment(
                self.options["experiment"], artifact_location=self.options["artifact_location"]
            )
        if experiment.lifecycle_stage != "active":
            raise SinkError(f"mlflow: experiment {self.options['experiment']!r} is deleted; "
                            "restore it or choose another experiment name")
        return experiment.experiment_id

    def _tags(self, run_info: RunInfo, run_id: str) -> dict:
        tags = {"hackmatrix.run_id": run_id, **{
            str(k): str(v) for k, v in self.options["tags"].items()}}
        if run_info.git_commit:
            tags["mlflow.source.git.commit"] = run_info.git_commit
        return tags

    def _log_params(self, run_id: str, config: Mapping) -> None:
        params = [self._Param(self.param_names(str(k)), str(v)[:MAX_PARAM_VALUE])
                  for k, v in config.items()]
        for start in range(0, len(params), BATCH_PARAMS):
            self.client.log_batch(run_id, params=params[start:start + BATCH_PARAMS])

    def _parent_run(self, run_info: RunInfo) -> str:
        """Return the id of the group's parent run, creating it for the group's first seed."""
        experiment_id = self._experiment_id()
        found = self.client.search_runs(
            [experiment_id], filter_string=f"tags.`{PARENT_TAG}` = '{run_info.group_id}'",
            max_results=1)
        if found:
            return found[0].info.run_id
        tags = {**self._tags(run_info, run_info.group_id), PARENT_TAG: run_info.group_id}
        run = self.client.create_run(
            experiment_id, run_name=self.options["run_name"] or run_info.group, tags=tags)
        self._log_params(run.info.run_id,
                         {k: v for k, v in run_info.config.items() if k != "run.seed"})
        return run.info.run_id

    def _create_run(self, run_info: RunInfo) -> str:
        tags = self._tags(run_info, run_info.run_id)
        name = self.options["run_name"] or run_info.name
        if self.parent_id is not None:
            tags.update({"mlflow.parentRunId": self.parent_id, "hackmatrix.seed": str(run_info.seed),
                         "hackmatrix.group": str(run_info.group)})
            name = run_info.name
        run = self.client.create_run(self._experiment_id(), run_name=name, tags=tags)
        self._log_params(run.info.run_id, run_info.config)
        return run.info.run_id

    def _save_state(self) -> None:
        write_sink_state(self.run_info.directory, self.NAME, {
            "run_id": self.run_id,
            "tracking_uri": self.options["tracking_uri"],
            "experiment": self.options["experiment"],
            "names": self.names.names,
            "param_names": self.param_names.names,
        })
        self.names.changed = False

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """One log_batch call with every scalar of the update not already in the run."""
        timestamp = int(time.time() * 1000)
        batch = [self._Metric(name, v, timestamp, step) for k, v in metrics.items()
                 if step > self._logged.get(name := self.names(k), 0)]
        for start in range(0, len(batch), BATCH_METRICS):
            self.client.log_batch(self.run_id, metrics=batch[start:start + BATCH_METRICS])
        if self.names.changed:
            self._save_state()

    def log_artifact(self, path: str | Path) -> None:
        """Copy a checkpoint file or directory into the run's artifacts."""
        path = Path(path)
        folder = self.options["artifact_path"]
        if path.is_dir():
            self.client.log_artifacts(self.run_id, str(path), f"{folder}/{path.name}")
        else:
            self.client.log_artifact(self.run_id, str(path), folder)

    def log_video(self, key: str, path: Path, step: int) -> None:
        """Copy an eval episode GIF into the run's artifacts under episodes/."""
        self.client.log_artifact(self.run_id, str(path), EPISODES_PATH)

    def log_export(self, path: Path, name: str) -> None:
        """Copy an exported policy directory into the run's artifacts as exports/<name>/."""
        self.client.log_artifacts(self.run_id, str(path), f"{EXPORTS_PATH}/{name}")

    def close(self, status: str) -> None:
        """Mark the run FINISHED, KILLED (interrupted) or FAILED."""
        self.client.set_terminated(self.run_id, status=RUN_STATUS[status])
        if self.parent_id is not None:
            self.client.set_terminated(self.parent_id, status=RUN_STATUS[status])
        self._save_state()
