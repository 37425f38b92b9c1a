"""The files of evaluation during training: eval episode GIFs and the exported final/best policies.

A GIF shows greedy eval game 0 (`hackmatrix watch RUN --seed <eval.seed> --episode 0` replays it),
drawn on the host by one background thread (the reference engine steps the game, only the small
policy network runs in JAX), so training goes on while it renders. Files go to the run directory
(a group's member: its own <label>/, e.g. seed-<s>/): episodes/update_N.gif, exports/final/,
exports/best/; each is then handed to that member's sinks.
"""

import concurrent.futures
import sys
from pathlib import Path

import jax

from hackmatrix.analysis.episode_gif import write_gif
from hackmatrix.analysis.export import export_policy
from hackmatrix.analysis.policy import GREEDY, Policy
from hackmatrix.analysis.watch import finished_frames, live_frames
from hackmatrix.core import checkpoint as ckpt
from hackmatrix.core.seed_axis import member_of

EPISODES_DIR = "episodes"
EXPORTS_DIR = "exports"
VIDEO_KEY = "eval/episode"


def gif_path(sinks_dir, update: int) -> Path:
    """The GIF of the eval at `update` in a run's (or a seed's) directory."""
    return Path(sinks_dir) / EPISODES_DIR / f"update_{update:08d}.gif"


def render_episode_gif(policy, path, eval_seed: int, max_steps: int, title: str) -> Path:
    """Play greedy eval game 0 of `eval_seed` with the policy and write it as a GIF."""
    frames = list(live_frames(policy, eval_seed, 0, GREEDY, max_steps))
    return write_gif(path, finished_frames(frames), title=title)


class EvalOutputs:
    """Writes the GIFs (in the background) and the exports of one run's members."""

    def __init__(self, config, network, run_dir, population, pipeline):
        self.config, self.network, self.pipeline = config, network, pipeline
        self.run_dir, self.population = run_dir, population
        self._executor = None
        self._pending = []

    def sinks_dir(self, index: int) -> Path:
        """Where member `index` keeps its files (the run directory for a plain run)."""
        if not self.population.grouped:
            return Path(self.run_dir)
        return Path(self.run_dir) / self.population.members[index].label

    def _policy(self, index: int, params, header: dict, source) -> Policy:
        return Policy(network=self.network, params=params, config=self.config, header=header,
                      checkpoint=Path(source),
                      seed=self.population.seeds[index] if self.population.grouped else None)

    def render_gifs(self, params, update: int) -> None:
        """Start rendering one GIF per member of the policy at `update` (returns at once)."""
        host = ckpt.host_copy(params)  # on every process: a gather across hosts is collective
        if self.run_dir is None:
            return
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="hackmatrix-gif")
        settings = self.config.evaluation
        for i in range(len(self.population.members)):
            policy = self._policy(i, member_of(host, i), {"update": update}, self.run_dir)
            title = f"update {update}   eval seed {settings.seed} game 0   greedy"
            self._pending.append(self._executor.submit(
                self._render_and_log, i, policy, gif_path(self.sinks_dir(i), update), update,
                title))

    def _render_and_log(self, index, policy, path, update, title) -> None:
        render_episode_gif(policy, path, self.config.evaluation.seed,
                           self.config.evaluation.gif_max_steps, title)
        self.pipeline.log_video(VIDEO_KEY, path, update, seed_index=index)

    def wait(self) -> None:
        """Wait for every GIF in flight; report (never raise) one that failed."""
        pending, self._pending = self._pending, []
        for future in pending:
            error = future.exception()
            if error is not None:
                print(f"hackmatrix: an eval episode GIF failed ({type(error).__name__}: "
                      f"{error}); training and the other outputs are not affected",
                      file=sys.stderr, flush=True)

    def export(self, index: int, name: str, params, source: Path, header=None) -> Path:
        """Export member `index`'s params as exports/<name>/ and hand them to its sinks."""
        header = header if header is not None else ckpt.read_header(source)[0]
        out = self.sinks_dir(index) / EXPORTS_DIR / name
        export_policy(self._policy(index, params, header, source), out)
        self.pipeline.log_export(out, name, seed_index=index)
        return out

    def export_best(self, index: int, best_path: Path, trainer) -> Path:
        """Export the params held by a best checkpoint (a one-seed runner state)."""
        header, payload = ckpt.read_header(best_path)
        shapes = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
        runner = ckpt.restore(best_path, shapes, header, payload)
        return self.export(index, "best", runner.params, best_path, header)
