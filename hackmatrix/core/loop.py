"""The host loop: compile, run chunks, publish metrics, checkpoint, handle Ctrl-C and divergence.

One device->host transfer per chunk carries the (chunk_size,) metric rows; the loop publishes one
point per update, evaluates at chunk ends when due (`hackmatrix.core.evaluation`), checkpoints at
chunk ends (every N updates / M minutes, and at the end), and on Ctrl-C or SIGTERM
(`hackmatrix.core.signals`) finishes the chunk in flight, checkpoints, closes every sink and
returns normally (status "interrupted", with the signal). Every sink has delivered and flushed every point up to a
checkpoint before that checkpoint is written, so a run killed at any moment resumes with no point
missing in any sink. The run directory is locked (`hackmatrix.core.run_lock`) while training.

Every run carries a seed axis (`hackmatrix.core.seed_axis`; length 1 for a one-seed run): the
chunk is vmapped over the seeds and compiled once. A seed group (`run.seeds`) stores its stacked
runner in the checkpoints and each seed logs to its own sinks (see `hackmatrix.core.seed_group`);
a one-seed run stores and logs as a plain run. A sweep's points x seeds are the same axis (a
`hackmatrix.core.population.Population`). A NaN loss in any member stops the whole group.
"""

import contextlib
import dataclasses
import math
import shutil
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from hackmatrix.core import checkpoint as ckpt
from hackmatrix.core.autoscale import auto_scale_for_batch_size, describe_auto_scale
from hackmatrix.core.config import batch_size, flat_dict, to_dict
from hackmatrix.core.distributed import process_zero_decides
from hackmatrix.core.evaluation import TrainingEval
from hackmatrix.core.losses import TOTAL_LOSS
from hackmatrix.core.outputs import describe_outputs
from hackmatrix.core.parallel import (
    check_divisible,
    compile_for_config,
    compile_trainer,
    make_mesh,
    place,
    place_hparams,
    stack_seed_keys,
)
from hackmatrix.core.population import Population, seed_population, stacked_hparams
from hackmatrix.core.resume import ResumePoint, config_differences
from hackmatrix.core.run_dir import CHECKPOINT_DIR, create_run_dir
from hackmatrix.core.run_lock import RunLock
from hackmatrix.core.seed_axis import unstacked_shapes, with_seed_axis, without_seed_axis
from hackmatrix.core.seed_group import member_run_info, open_members
from hackmatrix.core.signals import Interrupted, Signals
from hackmatrix.core.train import make_train
from hackmatrix.errors import CheckpointError, HackmatrixError
from hackmatrix.metrics import unstack_updates
from hackmatrix.metrics.naming import metric_name
from hackmatrix.metrics.system import SystemMonitor
from hackmatrix.sinks import RunInfo, validate_sink_specs

LOSS_KEY = metric_name(TOTAL_LOSS)


class TrainingDivergedError(HackmatrixError):
    """A non-finite loss: training stopped without saving the broken state."""


@dataclasses.dataclass(frozen=True)
class RunResult:
    """How a training run ended."""

    run_dir: Path
    # "finished", "interrupted" (SIGINT/SIGTERM), "stopped" (metrics health) or "early_stopped"
    # (an eval stopping rule, see hackmatrix.core.evaluation; stop_reason says which)
    status: str
    update: int  # updates completed
    checkpoint: Path | None  # the last checkpoint written
    params: object  # final params (host arrays; stacked on a leading seed axis for a seed group)
    seeds: tuple = ()  # the seeds trained (one for a plain run)
    signum: int | None = None  # the signal that interrupted the run
    sink_failures: tuple = ()  # one line per sink that failed during the run
    stop_reason: str | None = None  # why an early-stopped run stopped


def train(config, *, resume: ResumePoint | None = None, devices=None, log=print,
          trainer=None, population: Population | None = None) -> RunResult:
    """Run (or continue) a training run to the end; returns how it ended.

    `config` is the loaded config (auto-scaled here for a new run); for a resumed run it is the
    checkpoint's config with any allowed overrides applied (see `hackmatrix.core.resume`).
    `devices` defaults to every device; `trainer` (from `make_train`) replaces the real game,
    e.g. by a probe environment. `population` (default: the config's seeds) sets the runs
    trained together, e.g. a sweep's points x seeds.
    """
    specs = validate_sink_specs(list(config.sinks))
    mesh = make_mesh(devices)
    if resume is None:
        config = auto_scale_for_batch_size(config)
        if config.autoscaled:
            log(describe_auto_scale(config))
    population = population or seed_population(config)
    check_divisible(config.env.num_envs, mesh, len(population.members))
    seeds = population.seeds
    # Restore (and so validate) a checkpoint before the expensive compile.
    init = (trainer or make_train(config)).init
    shapes = jax.eval_shape(jax.vmap(init), jax.ShapeDtypeStruct((len(seeds), 2), jnp.uint32))
    host, update = ((None, 0) if resume is None
                    else _restore(resume, config, shapes, population.grouped))
    with contextlib.ExitStack() as stack:
        signals = stack.enter_context(Signals())
        if resume is not None and jax.process_index() == 0:
            # Locked before the compile, so a second `--resume` of a live run fails in seconds.
            stack.callback(RunLock(resume.run_dir).release)
        start = _Start(config=config, resume=resume, trainer=trainer, mesh=mesh, specs=specs,
                       population=population, host=host, update=update)
        return _compile_and_run(start, signals, stack, log)


def _restore(resume: ResumePoint, config, shapes, grouped: bool) -> tuple:
    """Return (host runner with its seed axis, update) of a checkpoint, checked against config."""
    try:
        host = ckpt.restore(resume.checkpoint, shapes if grouped else unstacked_shapes(shapes),
                            resume.header, resume.payload)
    except CheckpointError as err:
        # Name the cause in config keys; the array that differs follows as the detail.
        differ = config_differences(resume.header, config)
        if not differ:
            raise
        raise CheckpointError(f"checkpoint '{resume.checkpoint}' was written by a run with "
                              f"another config; keys that differ: {'; '.join(differ)} "
                              f"({err})") from None
    update = int(resume.header["update"])
    stored = sorted(set(np.ravel(host.update).tolist()))  # one count per seed
    if stored != [update]:
        raise CheckpointError(f"checkpoint '{resume.checkpoint}' is inconsistent: its header "
                              f"says update {update}, its state {stored}")
    return (host if grouped else with_seed_axis(host)), update


@dataclasses.dataclass(frozen=True)
class _Start:
    """What a run starts from: its config, sinks, members and (when resumed) its restored state."""

    config: object
    resume: ResumePoint | None
    trainer: object  # None: the config's real game
    mesh: object
    specs: list
    population: Population
    host: object  # the restored host runner (seed axis included), None for a new run
    update: int


def _compile_and_run(start: _Start, signals, stack, log) -> RunResult:
    """Open the run directory and the sinks, compile, and run the session to its end.

    The sinks open before the compile, so an unusable one (unwritable path, unreachable tracking
    server, missing package) fails in seconds rather than after minutes of compiling.
    """
    config, resume, population = start.config, start.resume, start.population
    seeds, grouped = population.seeds, population.grouped
    is_main = jax.process_index() == 0
    num_updates = (start.trainer or make_train(config)).num_updates
    if resume is None:
        run_dir, info = create_run_dir(config) if is_main else (None, {})
        if run_dir is not None:
            stack.callback(RunLock(run_dir).release)
            # Registered after the lock, so it runs before the release (ExitStack is LIFO).
            stack.callback(_remove_if_untrained, run_dir)
    else:
        # Every host reads the run directory to resume; only process 0 writes to it.
        run_dir, info = (resume.run_dir if is_main else None), resume.run_info
    params = flat_dict(config)
    params.update({f"autoscaled.{k}": f"{old} -> {new}" for k, old, new in config.autoscaled})
    if grouped:
        params["seeds"] = list(seeds)
    run_info = RunInfo(name=info.get("name", "run"), run_id=info.get("run_id", "run"),
                       directory=run_dir or Path("."), config=params,
                       git_commit=info.get("git_commit"), resumed=resume is not None,
                       start_step=start.update, total_updates=num_updates)
    members = [(m.label.replace("-", " "), member_run_info(run_info, m, population))
                for m in population.members]
    pipeline = open_members(start.specs, run_info, members if grouped else None, config.health,
                            is_main)
    status, session, evaluation = "failed", None, None
    try:
        log(f"compiling the training chunk ({config.env.num_envs} envs x {config.ppo.num_steps} "
            f"steps, up to {config.run.updates_per_chunk} updates per chunk, "
            f"{f'{len(seeds)} runs vmapped, ' if grouped else ''}on "
            f"{start.mesh.devices.size} {jax.default_backend()} device(s))...")
        began = time.monotonic()
        compiled = (compile_for_config(config, start.mesh, len(seeds)) if start.trainer is None
                    else compile_trainer(start.trainer, start.mesh, len(seeds)))
        compile_seconds = time.monotonic() - began
        runner = (place(start.host, compiled.shardings) if resume is not None
                  else compiled.init(stack_seed_keys(seeds)))
        log(f"ready in {time.monotonic() - began:.1f}s")
        # Evaluation during training (hackmatrix.core.evaluation), called at chunk ends.
        evaluation = TrainingEval(config, compiled.trainer, run_dir, population,
                                  resume.header if resume else None, pipeline, log)
        if grouped and run_dir is not None:
            log(f"{len(seeds)} runs, each in {run_dir}/<run>/ "
                f"({', '.join(m.label for m in population.members)}); the console shows the "
                f"mean over them (health flags: the minimum, 0 when any run fails)")
        session = _Session(config=config, trainer=compiled.trainer, chunk=compiled.chunk,
                           runner=runner, update=start.update, run_dir=run_dir, info=info,
                           pipeline=pipeline, log=log, population=population,
                           hparams=place_hparams(compiled, stacked_hparams(population)),
                           evaluation=evaluation,
                           last_checkpoint=resume.checkpoint if resume else None)
        session.system.compile_seconds = compile_seconds
        signals.armed = True
        result = session.run(signals)
        status = "finished" if result.status in ("finished", "early_stopped") else "interrupted"
        if result.checkpoint is not None and is_main:
            pipeline.log_artifact(result.checkpoint)
        evaluation.finish(result.checkpoint, result.params)
    except Interrupted:
        status = "interrupted"  # during the compile: the sinks record an interrupted run
        raise
    finally:
        if evaluation is not None:
            evaluation.close()
        pipeline.close(status)
        if session is not None and status != "failed" and run_dir is not None:
            log(describe_outputs(run_dir, start.specs, session.last_checkpoint, status, grouped))
    failures = tuple(pipeline.sink_failures)
    if failures:
        log("sinks that failed during the run (the other sinks hold every update):\n  "
            + "\n  ".join(failures))
    return dataclasses.replace(result, sink_failures=failures)


def _remove_if_untrained(run_dir: Path) -> None:
    """Delete a new run directory that never got a checkpoint (it failed before training)."""
    if not ckpt.list_checkpoints(run_dir / CHECKPOINT_DIR):
        shutil.rmtree(run_dir, ignore_errors=True)


@dataclasses.dataclass
class _Session:
    """The mutable state of one host loop; the runner leads with the seed axis."""

    config: object
    trainer: object
    chunk: object
    runner: object
    update: int
    run_dir: Path | None
    info: dict
    pipeline: object
    log: object
    population: Population
    hparams: dict  # each traced hyperparameter as a (members,) device array
    evaluation: TrainingEval
    last_checkpoint: Path | None = None
    # Known to every process alike (only process 0 has a checkpoint path): the final save is
    # a collective that all processes must join or skip together.
    saved: bool = dataclasses.field(init=False)
    checkpointed_update: int = dataclasses.field(init=False)
    checkpointed_at: float = dataclasses.field(init=False, default_factory=time.monotonic)
    batch: int = dataclasses.field(init=False)
    system: SystemMonitor = dataclasses.field(init=False, default_factory=SystemMonitor)

    def __post_init__(self):
        self.saved = self.last_checkpoint is not None
        self.checkpointed_update = self.update
        self.batch = batch_size(self.config)

    @property
    def seeds(self) -> tuple:
        """Each member's seed."""
        return self.population.seeds

    @property
    def grouped(self) -> bool:
        """Whether the members are sub-runs (stacked checkpoints) rather than one plain run."""
        return self.population.grouped

    def run(self, signals) -> RunResult:
        """Run chunks until the end, SIGINT/SIGTERM or a health stop."""
        status = "finished"
        while self.update < self.trainer.num_updates:
            if process_zero_decides(signals.requested):
                status = "interrupted"
                break
            self._one_chunk()
            if self.pipeline.should_stop:
                status = "stopped"
                break
            if self.evaluation.stop_reason:
                status = "early_stopped"
                break
            if self._checkpoint_due():
                self.save()
        if self.checkpointed_update != self.update or not self.saved:
            self.save()
        params = ckpt.host_copy(self.runner.params)
        if status == "interrupted":
            self.log(f"interrupted after update {self.update}; checkpoint {self.last_checkpoint}")
        elif status == "stopped":
            self.log(f"stopped at update {self.update}: a health check failed "
                     f"{self.config.health.stop_patience} updates in a row "
                     f"(metrics.health.stop_when_unhealthy); checkpoint {self.last_checkpoint}")
        elif status == "early_stopped":
            self.log(f"stopped early at update {self.update}: {self.evaluation.stop_reason}; "
                     f"checkpoint {self.last_checkpoint}")
        return RunResult(self.run_dir, status, self.update, self.last_checkpoint,
                         params if self.grouped else without_seed_axis(params), self.seeds,
                         signals.signum if status == "interrupted" else None,
                         stop_reason=self.evaluation.stop_reason)

    def _one_chunk(self):
        n = min(self.trainer.chunk_size, self.trainer.num_updates - self.update)
        start = time.monotonic()
        runner, metrics = self.chunk(self.runner, jnp.int32(n), self.hparams)
        host = jax.device_get(metrics)
        rows = [unstack_updates({k: v[s] for k, v in host.items()})[:n]
                for s in range(len(self.seeds))]
        seconds = time.monotonic() - start
        # Evaluation hook: eval/* of each seed join the row of the chunk's last update.
        evals = self.evaluation.at_chunk_end(self.update, self.update + n, runner,
                                             self._header(self.update + n))
        for seed_rows, point in zip(rows, evals, strict=True):
            seed_rows[-1].update(point)
        # One host-side sample per chunk, after the transfer above: it adds no device sync.
        system = self.system.sample()
        for i in range(n):
            step = self.update + i + 1
            for s, seed_rows in enumerate(rows):
                row = seed_rows[i]
                if not math.isfinite(row[LOSS_KEY]):
                    self._diverged(step, row[LOSS_KEY], s)
                # Per seed: its own env steps and rate, comparable with a one-seed run's.
                row["perf/env_steps"] = float(step * self.batch)
                row["perf/sps"] = n * self.batch / seconds
                row["perf/update_seconds"] = seconds / n
                row.update(system)
            self.pipeline.publish(step, [seed_rows[i] for seed_rows in rows])
        self.runner, self.update = runner, self.update + n

    def _diverged(self, step, value, seed_index):
        self.pipeline.flush()
        where = (f"last good checkpoint: {self.last_checkpoint} (update "
                 f"{self.checkpointed_update})" if self.last_checkpoint
                 else "no checkpoint was written yet")
        label = self.population.members[seed_index].label.replace("-", " ")
        which = f" of {label}" if self.grouped else ""
        raise TrainingDivergedError(
            f"training diverged: {LOSS_KEY}{which} = {value} at update {step}; stopped without saving "
            f"the broken parameters; {where}")

    def _checkpoint_due(self) -> bool:
        every = self.config.checkpoint.every_updates
        minutes = self.config.checkpoint.every_minutes
        by_count = every and self.update // every > self.checkpointed_update // every
        by_time = minutes and time.monotonic() - self.checkpointed_at >= 60.0 * minutes
        return process_zero_decides(bool(by_count or by_time))

    def save(self):
        """Write a checkpoint of the current runner state (every process joins the gather).

        Every sink delivers and flushes its points first: a checkpoint at update k promises that
        each live sink holds every point <= k, so a resume from it never leaves a gap.
        """
        if not self.pipeline.flush():
            self.log("warning: a sink did not deliver its points within its timeout; the "
                     "checkpoint is written anyway (that sink is reported when it fails)")
        host = ckpt.host_copy(self.runner)
        self.checkpointed_update, self.checkpointed_at = self.update, time.monotonic()
        self.saved = True
        if self.run_dir is None:
            return
        # A one-seed run stores its runner without the seed axis (hackmatrix.core.seed_axis).
        stored = host if self.grouped else without_seed_axis(host)
        self.last_checkpoint = ckpt.save(self.run_dir / CHECKPOINT_DIR, stored,
                                         self._header(self.update),
                                         self.config.checkpoint.keep_last)

    def _header(self, update: int) -> dict:
        """The checkpoint header of the runner state after `update` updates."""
        header = {
            "update": update, "last_logged_step": self.pipeline.last_step,
            "env_steps": update * self.batch, "run_id": self.info.get("run_id"),
            "name": self.info.get("name"), "config": to_dict(self.config),
            "explicit": sorted(self.config.explicit),
            "autoscaled": [list(c) for c in self.config.autoscaled],
            "eval": self.evaluation.state(),
        }
        if self.grouped:
            header["seeds"] = list(self.seeds)
        return header
