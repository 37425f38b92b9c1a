"""The host side of a population (`run.seeds`, a sweep): one run of its own per member, one console.

Layout: the group's run directory runs/<name>-NNN/ holds config.yaml, run.json and checkpoints/
(the stacked runner of every seed); seed-<s>/ holds seed s's sink files (metrics.jsonl,
tensorboard/, wandb/, sinks_state.json), so `tensorboard --logdir runs/<name>-NNN` shows the seeds
side by side. Every seed has its own MetricsPipeline (its own health checks and summary) and its
own sinks; the console instead prints one table per update for the whole group: the mean over
the seeds of each metric (over the seeds that logged it, as episode/* keys exist only for
updates where an episode ended) and, for the health/* flags, the minimum, so a check reads 0
(failing) as soon as one seed fails it. A one-seed run keeps the plain layout: its one pipeline
gets every sink, the console included. A sweep's members (one per point and seed) are laid out
and logged the same way, named by their label (`hackmatrix.core.population.Member`).
"""

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from hackmatrix.core.population import seed_label
from hackmatrix.metrics import MetricsPipeline
from hackmatrix.metrics.health import HEALTH_PREFIX
from hackmatrix.metrics.pipeline import report_to_stderr
from hackmatrix.sinks import RunInfo, create_sinks

CONSOLE = "console"


def seed_dir(run_dir, seed: int) -> Path:
    """Return the sub-directory of one seed's sink files in a multi-seed run directory."""
    return Path(run_dir) / seed_label(seed)


def seed_run_info(group: RunInfo, seed: int) -> RunInfo:
    """Return the RunInfo of one seed of a group: its own name, id, directory and run.seed."""
    return labelled_run_info(group, seed_label(seed), seed)


def labelled_run_info(group: RunInfo, label: str, seed: int) -> RunInfo:
    """Return the RunInfo of the member `label` (training `seed`) of a group's run."""
    return dataclasses.replace(
        group, name=f"{group.name}-{label}", run_id=f"{group.run_id}-{label}",
        directory=Path(group.directory) / label, config={**group.config, "run.seed": seed},
        group=group.name, group_id=group.run_id, seed=seed)


def member_run_info(group: RunInfo, member, population) -> RunInfo:
    """Return the RunInfo of one member of a population: its own name, id, directory, config."""
    config = member.config if member.config is not None else {**group.config,
                                                              "run.seed": member.seed}
    return dataclasses.replace(
        group, name=f"{group.name}-{member.label}", run_id=f"{group.run_id}-{member.label}",
        directory=Path(group.directory) / member.label, config=config,
        group=population.group or group.name, group_id=population.group_id or group.run_id,
        seed=member.seed)


def group_point(points: Sequence[Mapping[str, float]]) -> dict:
    """Return the console's view of one update of every seed: means, and minima of health/*."""
    keys = dict.fromkeys(key for point in points for key in point)
    out = {}
    for key in keys:
        values = [point[key] for point in points if key in point]
        out[key] = float(np.min(values) if key.startswith(HEALTH_PREFIX) else np.mean(values))
    return out


class GroupPipeline:
    """The pipelines of a run's seeds (one for a plain run) and the group's console view."""

    def __init__(self, pipelines: Sequence[MetricsPipeline], console: MetricsPipeline | None,
                 names: Sequence[str] = ()):
        self.pipelines = list(pipelines)
        self.console = console
        self.names = tuple(names)  # each pipeline's member ("seed 3"); empty for a plain run

    @property
    def last_step(self) -> int:
        """The last step published to every seed."""
        return min(p.last_step for p in self.pipelines)

    @property
    def should_stop(self) -> bool:
        """True once every seed's health asks to stop.

        The seeds train in one program, so stopping means stopping all of them; a seed that is
        still healthy keeps the group going.
        """
        return all(p.should_stop for p in self.pipelines)

    def publish(self, step: int, rows: Sequence[Mapping[str, float]]) -> None:
        """Publish row i to seed i's pipeline (and the mean of the points to the console)."""
        points = [p.publish(step, row) for p, row in zip(self.pipelines, rows, strict=True)]
        if self.console is not None:
            self.console.publish(step, group_point(points))

    def log_artifact(self, path) -> None:
        """Hand a checkpoint (of every seed) to every seed's sinks."""
        for pipeline in self.pipelines:
            pipeline.log_artifact(path)

    def log_video(self, key: str, path, step: int, seed_index: int = 0) -> None:
        """Hand an animated GIF of one seed (index into the seeds) to that seed's sinks."""
        self.pipelines[seed_index].log_video(key, path, step)

    def log_export(self, path, name: str, seed_index: int = 0) -> None:
        """Hand one seed's exported policy directory to that seed's sinks."""
        self.pipelines[seed_index].log_export(path, name)

    def flush(self) -> bool:
        """Wait until every sink has delivered and flushed all points so far; False on timeout."""
        # Every pipeline is flushed, also after one timed out (no short-circuit).
        delivered = [pipeline.flush() for pipeline in self._all()]
        return all(delivered)

    @property
    def sink_failures(self) -> list[str]:
        """One line per sink that failed during the run (prefixed with its seed when multi-seed)."""
        if not self.names:
            return self.pipelines[0].sink_failures
        prefixes = [f"{name}: " for name in self.names] + ["console view: "]
        return [prefix + line for prefix, pipeline in zip(prefixes, self._all(), strict=False)
                for line in pipeline.sink_failures]

    def close(self, status: str) -> None:
        """Close every pipeline (each prints its seed's health summary)."""
        for pipeline in self._all():
            pipeline.close(status)

    def _all(self) -> list:
        return self.pipelines + ([self.console] if self.console is not None else [])


def open_group(specs: list, run_info: RunInfo, seeds: Sequence[int] | None, health,
               open_sinks: bool) -> GroupPipeline:
    """Open the sinks and pipelines of a run; `seeds` None means a plain one-seed run.

    `open_sinks` is False on every process but the first of a multi-host run (no sinks there).
    """
    if seeds is None:
        return open_members(specs, run_info, None, health, open_sinks)
    infos = [seed_run_info(run_info, seed) for seed in seeds]
    return open_members(specs, run_info, [(f"seed {s}", i) for s, i in zip(seeds, infos,
                                                                           strict=True)],
                        health, open_sinks)


def open_members(specs: list, run_info: RunInfo, members: Sequence | None, health,
                 open_sinks: bool) -> GroupPipeline:
    """Open the pipelines of a population's members, given as (name, RunInfo) pairs.

    `members` None means a plain one-member run: one pipeline with every sink, the console too.
    """
    if members is None:
        sinks = create_sinks(specs, run_info) if open_sinks else []
        return GroupPipeline([MetricsPipeline(sinks, health=health)], None)
    seed_specs = [s for s in specs if s["type"] != CONSOLE]
    console_specs = [s for s in specs if s["type"] == CONSOLE]
    pipelines, console = [], None
    try:
        for name, info in members:
            sinks = create_sinks(seed_specs, info) if open_sinks else []
            pipelines.append(MetricsPipeline(sinks, health=health, report=_reporter(name)))
        if console_specs and open_sinks:
            console = MetricsPipeline(create_sinks(console_specs, run_info), health=health,
                                      check_health=False)
    except Exception:
        for pipeline in pipelines:
            pipeline.close("failed")
        raise
    return GroupPipeline(pipelines, console, [name for name, _ in members])


def _reporter(name: str):
    """Prefix the pipeline's reports (health summary included) with the member they are about."""
    def report(message: str) -> None:
        report_to_stderr(f"{name}: {message}")

    return report
