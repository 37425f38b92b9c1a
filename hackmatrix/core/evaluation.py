"""Evaluation during training (config `eval:`): eval/* points, best checkpoints, early stopping.

At the first chunk end at or after every `eval.every_updates` updates, the current policy of every
member of the population (`hackmatrix.core.population`: the seeds of a run, the points x seeds of
a sweep) plays `eval.episodes` games on the same boards each time (`eval.seed`, the episode keys
of `hackmatrix eval --seed`), with the project's one evaluator (`hackmatrix.analysis.evaluate`):
vmapped over the games, compiled once, at the first eval (the members take turns on that one
program). The summary becomes that update's `eval/*` keys (`eval/sample/*` for the sampled
policy) and `perf/eval_seconds`. When a member's `eval.metric` improves, its one-member runner
state goes to checkpoints/best.ckpt (best-<label>.ckpt for each member of a group: best-seed-<s>
for a seed, best-p<point>-seed-<s> for a sweep's point and seed), outside the rotation of
update_*.ckpt. Every checkpoint header carries each member's EvalTracker, so a resumed run
continues the best value, the patience count and the history exactly. The run stops early once
every member met a stopping rule (`eval.target`, `eval.patience`).
"""

import time
from pathlib import Path

import jax
import jax.numpy as jnp

from hackmatrix.analysis.eval_sinks import summary_metrics
from hackmatrix.analysis.evaluate import episode_keys, make_player, summarize
from hackmatrix.analysis.policy import GREEDY, SAMPLE
from hackmatrix.core import checkpoint as ckpt
from hackmatrix.core.eval_outputs import EvalOutputs
from hackmatrix.core.eval_tracker import EvalTracker
from hackmatrix.core.run_dir import CHECKPOINT_DIR
from hackmatrix.core.seed_axis import member_of, with_seed_axis

EVAL_SECONDS = "perf/eval_seconds"
HEADER_KEY = "eval"


def best_name(label: str | None) -> str:
    """The file name of a member's best checkpoint (None: a plain run's best.ckpt)."""
    return "best.ckpt" if label is None else f"best-{label}.ckpt"


def due(every: int, before: int, after: int) -> bool:
    """Whether a chunk from update `before` to `after` crossed a multiple of `every` (0: never)."""
    return bool(every) and after // every > before // every


class TrainingEval:
    """The evals of one training session; the loop calls `at_chunk_end`, `state` and `finish`."""

    def __init__(self, config, trainer, run_dir, population, header, pipeline, log):
        self.config, self.trainer, self.pipeline, self.log = config, trainer, pipeline, log
        self.settings = config.evaluation
        self.run_dir = run_dir  # None on the processes of a multi-host run that write nothing
        self.population = population
        # Each member's label, None for a plain run (it keeps the one-run file names).
        self.labels = ([m.label for m in population.members] if population.grouped
                       else [None])
        saved = (header or {}).get(HEADER_KEY) or []
        count = len(population.members)
        self.trackers = [EvalTracker.from_dict(saved[i] if i < len(saved) else {},
                                               self.settings.metric, self.settings.mode)
                         for i in range(count)]
        self.evals = len(self.trackers[0].history)
        self.stop_reason = None
        self.outputs = EvalOutputs(config, trainer.network, run_dir, population, pipeline)
        self.compile_seconds = 0.0
        self._player = None

    def _compile(self, params) -> None:
        """Compile the player at the first eval, timed apart from the eval itself.

        Lazily, so a run that never reaches an eval never compiles the game's eval loop.
        """
        # `hackmatrix eval`'s compiled player: the members take turns on the one program (a
        # vmap over the members would be a second compile of the whole game).
        self._player = make_player(self.trainer.network)
        self._keys = episode_keys(self.settings.seed, self.settings.episodes)
        start = time.monotonic()
        # max_steps 0: no game step runs, but the program compiles (mode and steps are traced).
        jax.block_until_ready(self._play(params, GREEDY, 0))
        self.compile_seconds = time.monotonic() - start
        self.log(f"compiled the eval games in {self.compile_seconds:.1f}s")

    def _play(self, params, mode, max_steps) -> list:
        """Play the eval games with each member's params; return one EpisodeStats per member."""
        # Host params: the player runs on the default device whatever the training mesh is.
        host = ckpt.host_copy(params)
        return [self._player(member_of(host, i), self._keys, jnp.int32(mode),
                             jnp.int32(max_steps))
                for i in range(len(self.trackers))]

    def at_chunk_end(self, before: int, after: int, runner, header: dict) -> list:
        """Evaluate when due; return one dict of eval/* keys per member (empty when not due).

        `header` is the checkpoint header of the runner at `after` (for a new best checkpoint).
        """
        count = len(self.trackers)
        if not due(self.settings.every_updates, before, after):
            return [{} for _ in range(count)]
        if self._player is None:
            self._compile(runner.params)
        start = time.monotonic()
        modes = [(GREEDY, "eval/")] + ([(SAMPLE, "eval/sample/")] if self.settings.sampled else [])
        stats = {prefix: self._play(runner.params, mode, self.settings.max_steps)
                 for mode, prefix in modes}
        points = [{} for _ in range(count)]
        for prefix, per_member in stats.items():
            for point, one in zip(points, per_member, strict=True):
                point.update(summary_metrics(summarize(one), prefix))
        seconds = time.monotonic() - start
        self.evals += 1
        improved = [t.record(after, p[f"eval/{self.settings.metric}"])
                    for t, p in zip(self.trackers, points, strict=True)]
        if any(improved):
            self._save_best(runner, header, improved)
        if self.settings.gif_every and self.evals % self.settings.gif_every == 0:
            self.outputs.render_gifs(runner.params, after)
        for point in points:
            point[EVAL_SECONDS] = seconds
        self._check_stop()
        return points

    def _check_stop(self) -> None:
        reasons = [t.stop_reason(self.settings.target, self.settings.patience)
                   for t in self.trackers]
        if all(reasons):
            if not self.population.grouped:
                self.stop_reason = reasons[0]
            else:
                self.stop_reason = "every run met a stopping rule: " + "; ".join(
                    f"{label.replace('-', ' ')}: {r}"
                    for label, r in zip(self.labels, reasons, strict=True))

    def _save_best(self, runner, header: dict, improved: list) -> None:
        """Write the best checkpoint of each member that improved (a one-seed runner each)."""
        host = ckpt.host_copy(runner)
        if self.run_dir is None:
            return
        for i, better in enumerate(improved):
            if not better:
                continue
            tracker, label = self.trackers[i], self.labels[i]
            best_header = {key: value for key, value in header.items() if key != "seeds"}
            best_header["best"] = {"metric": f"eval/{tracker.metric}", "value": tracker.best,
                                   "update": tracker.best_update}
            best_header[HEADER_KEY] = [tracker.to_dict()]
            if label is not None:
                # One member's state: its seed and its own traced PPO values (a sweep's point).
                member = self.population.members[i]
                config = best_header["config"]
                best_header.update(seed=member.seed, member=label, hparams=member.hparams,
                                   config={**config, "ppo": {**config["ppo"], **member.hparams}})
            path = Path(self.run_dir) / CHECKPOINT_DIR / best_name(label)
            ckpt.write_atomic(path, ckpt.encode(member_of(host, i), best_header))

    def state(self) -> list:
        """The per-member eval state for a checkpoint header."""
        return [t.to_dict() for t in self.trackers]

    def best_checkpoint(self, index: int) -> Path | None:
        """The best checkpoint file of member `index`, when one was written."""
        if self.run_dir is None:
            return None
        path = Path(self.run_dir) / CHECKPOINT_DIR / best_name(self.labels[index])
        return path if path.is_file() else None

    def summary(self) -> str | None:
        """One line per member: its best eval and where its best checkpoint is."""
        if not self.settings.every_updates:
            return None
        lines = []
        for i, tracker in enumerate(self.trackers):
            label = self.labels[i]
            who = "" if label is None else f"{label.replace('-', ' ')}: "
            best = self.best_checkpoint(i)
            if tracker.best is None:
                lines.append(f"{who}no eval yet")
                continue
            lines.append(f"{who}{len(tracker.history)} evals; best eval/{tracker.metric} "
                         f"{tracker.best:.4g} at update {tracker.best_update}"
                         + (f" ({best})" if best else ""))
        return "eval: " + "\n      ".join(lines)

    def finish(self, final_checkpoint: Path | None, final_params) -> None:
        """Wait for the GIFs; export the final and best policies and hand them to the sinks.

        `final_params` are RunResult's: stacked for a group, without the seed axis otherwise.
        """
        self.outputs.wait()
        if final_checkpoint is None or self.run_dir is None:
            return
        stacked = final_params if self.population.grouped else with_seed_axis(final_params)
        for i in range(len(self.trackers)):
            self.outputs.export(i, "final", member_of(stacked, i), final_checkpoint)
            best = self.best_checkpoint(i)
            if best is not None:
                self.outputs.export_best(i, best, self.trainer)
        summary = self.summary()
        if summary:
            self.log(summary)

    def close(self) -> None:
        """Wait for the GIFs in flight (at most a few seconds each)."""
        self.outputs.wait()

