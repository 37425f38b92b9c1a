"""Learning benchmark: train from config.yaml as `hackmatrix train` does, then evaluate held-out games.

Trains with `hackmatrix.core.loop.train` (config.yaml plus any overrides, one or more seeds through
`run.seeds`) for a step budget (--steps) or a wall-clock budget (--minutes: a short calibration run
of the same config measures the training rate, and the run's `ppo.total_timesteps` is set so that
training ends within the budget, learning-rate schedule included). Then every seed's final policy
plays --episodes games greedily and sampled, from a fixed eval seed that no training run uses, and
the uniformly random valid-action policy plays the same boards (`hackmatrix.analysis.evaluate`, the
evaluator of `hackmatrix eval`). One JSON line per seed goes to benchmarks/results/learning.jsonl,
and one learning-curve PNG per run to benchmarks/results/.

    python benchmarks/learning.py --steps 5000000 --label defaults
    python benchmarks/learning.py --minutes 60 --label defaults run.seeds=3
    python benchmarks/learning.py --table        # the recorded runs as a markdown table
    python benchmarks/learning.py --evaluate runs/defaults-001 --label defaults  # re-evaluate

`--evaluate RUN_DIR` skips training and evaluates (and records) a finished run of this benchmark
or of `hackmatrix train`: its newest checkpoint, its config and its metrics.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RESULTS_FILE = RESULTS / "learning.jsonl"
# Far from any seed a training run uses (run.seed defaults to 0, seed lists are small ints).
EVAL_SEED = 2_000_003
QUALITY_STAGES = (2, 3)
# Trailing window (updates with finished episodes) of the training time-to-quality estimate.
QUALITY_WINDOW = 5
CALIBRATION_UPDATES = 8


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="env steps per seed (ppo.total_timesteps)")
    budget.add_argument("--minutes", type=float, help="wall-clock training budget")
    budget.add_argument("--table", action="store_true",
                        help="print the recorded runs as a markdown table and exit")
    budget.add_argument("--evaluate", metavar="RUN_DIR",
                        help="evaluate and record a finished run instead of training one")
    parser.add_argument("--label", default="run", help="name of this configuration in the results")
    parser.add_argument("--episodes", type=int, default=1000, help="eval games per policy mode")
    parser.add_argument("--eval-max-steps", type=int, default=5000,
                        help="an eval game still running after this many steps is truncated")
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    parser.add_argument("--runs-dir", default=None, help="default: a temporary directory")
    parser.add_argument("--results", default=str(RESULTS_FILE), help="JSONL file to append to")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="config overrides (with --evaluate: only recorded, to describe the run)")
    args = parser.parse_args(argv)
    if not args.table and args.evaluate is None and args.steps is None and args.minutes is None:
        parser.error("give a budget: --steps N or --minutes M (or --table, --evaluate RUN_DIR)")
    return args


def git_commit() -> str | None:
    """Return the checked-out commit (with '+dirty' for local changes), or None outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def calibrated_steps(config, minutes: float, log) -> int:
    """Return the env steps per seed that the config trains in `minutes` on this machine."""
    from hackmatrix.analysis.run_metrics import read_run_metrics, seed_dirs
    from hackmatrix.core.config import batch_size, replace
    from hackmatrix.core.loop import train

    batch = batch_size(config)
    probe = replace(config, **{"ppo.total_timesteps": CALIBRATION_UPDATES * batch,
                               "run.name": "calibration", "sinks": ("jsonl",)})
    start = time.monotonic()
    result = train(probe, log=lambda *_: None)
    elapsed = time.monotonic() - start
    run_dir = (seed_dirs(result.run_dir) or [result.run_dir])[0]
    rows = read_run_metrics(run_dir).train
    # The first chunk's rate includes no compile (it is timed after compiling), but the last
    # chunks are the steadiest; the compile time is charged to the budget separately.
    sps = rows[-1]["perf/sps"]
    compile_seconds = max(0.0, elapsed - CALIBRATION_UPDATES * batch / sps)
    steps = int((minutes * 60.0 - compile_seconds) * sps)
    log(f"calibration: {sps:,.0f} env steps/s per seed, {compile_seconds:.0f}s to set up; "
        f"{minutes:g} minutes -> {steps:,} env steps per seed")
    return max(batch, steps // batch * batch)


def time_to_quality(rows, batch: int, start_time: float) -> dict:
    """First env steps and seconds at which the training episodes' final stage reached 2 and 3.

    Uses the mean final stage of the episodes that finished in the last QUALITY_WINDOW updates
    (weighted by their count), so one lucky update does not count.
    """
    points = [(r["step"], r["time"], r["episode/final_stage_mean"], r["episode/count"])
              for r in rows if r.get("episode/final_stage_mean") is not None
              and r.get("episode/count")]
    out = {f"stage_{k}": None for k in QUALITY_STAGES}
    for i in range(len(points)):
        window = points[max(0, i + 1 - QUALITY_WINDOW): i + 1]
        weight = sum(p[3] for p in window)
        mean = sum(p[2] * p[3] for p in window) / weight
        step, when = points[i][0], points[i][1]
        for k in QUALITY_STAGES:
            if out[f"stage_{k}"] is None and mean >= k:
                out[f"stage_{k}"] = {"env_steps": step * batch,
                                     "seconds": round(when - start_time, 1)}
    return out


def health_record(rows) -> dict:
    """For each health check: the number of updates it failed and the total updates."""
    keys = sorted({k for r in rows for k in r if k.startswith("health/")})
    return {k: {"failed": sum(1 for r in rows if r.get(k) is not None and r[k] < 0.5),
                "updates": sum(1 for r in rows if r.get(k) is not None)} for k in keys}


def condensed(summary: dict) -> dict:
    """The benchmark's view of an eval summary: stage reach, return, actions, programs."""
    from hackmatrix.env.constants import NUM_STAGES

    episodes = summary["episodes"]
    stages = {int(k): v for k, v in summary["final_stages"].items()}
    reach = {f">={k}": sum(v for s, v in stages.items() if s >= k) / episodes
             for k in range(2, NUM_STAGES + 1)}
    used = {name: p["per_episode"] for name, p in summary["programs"].items()
            if p["per_episode"] > 0}
    return {
        "policy": summary["policy"], "episodes": episodes, "win_rate": summary["win_rate"],
        "final_stage_mean": summary["final_stage_mean"],
        "final_stage_ci95": summary["final_stage_ci95"], "stage_reach": reach,
        "return_mean": summary["return_mean"], "return_ci95": summary["return_ci95"],
        "length_mean": summary["length_mean"], "truncated_rate": summary["truncated_rate"],
        "actions": summary["actions"], "distinct_programs": len(used),
        "programs_per_episode": used, "rewards": summary["rewards"],
    }


def evaluate_seeds(result, episodes: int, max_steps: int) -> tuple:
    """Greedy and sampled eval of every seed's final policy, and the random baseline once."""
    import jax.numpy as jnp

    from hackmatrix.analysis.evaluate import episode_keys, make_player, summarize
    from hackmatrix.analysis.policy import GREEDY, MODE_NAMES, RANDOM, SAMPLE, load_policy

    keys = episode_keys(EVAL_SEED, episodes)
    per_seed, random = [], None
    for index in range(len(result.seeds)):
        policy = load_policy(result.checkpoint, seed_index=index if len(result.seeds) > 1 else 0)
        player = make_player(policy.network)
        modes = (GREEDY, SAMPLE) if random is not None else (GREEDY, SAMPLE, RANDOM)
        out = {}
        for mode in modes:
            stats = player(policy.params, keys, jnp.int32(mode), jnp.int32(max_steps))
            out[MODE_NAMES[mode]] = condensed({**summarize(stats), "policy": MODE_NAMES[mode]})
        random = out.pop("random", random)
        per_seed.append(out)
    return per_seed, random


def learning_curve_png(runs, path: Path, title: str) -> None:
    """Plot final stage, return and siphon/program shares against env steps, one line per seed."""
    from matplotlib.figure import Figure

    panels = (("episode/final_stage_mean", "final stage (training episodes)"),
              ("episode/return_mean", "episode return (training)"),
              ("actions/siphon_frac", "siphon share of actions"),
              ("actions/program_frac", "program share of actions"))
    fig = Figure(figsize=(11, 7))
    axes = fig.subplots(2, 2).ravel()
    for ax, (key, name) in zip(axes, panels):
        for seed, rows, batch in runs:
            pairs = [(r["step"] * batch, r[key]) for r in rows if r.get(key) is not None]
            if pairs:
                ax.plot(*zip(*pairs), label=f"seed {seed}", linewidth=1)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("env steps")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def train_run(args):
    """Train the benchmark's config; return (config, result, train seconds, start wall time,
    commit)."""
    from hackmatrix.core.config import load_config, replace, seed_list
    from hackmatrix.core.loop import train
    from hackmatrix.core.train_cli import _set_up_jax

    runs_dir = args.runs_dir or tempfile.mkdtemp(prefix="hackmatrix-learning-")
    config = load_config(args.config, [*args.overrides, f"run.runs_dir={runs_dir}",
                                       f"run.name={args.label}", "sinks=[console, jsonl]"])
    if EVAL_SEED in seed_list(config):
        raise SystemExit(f"run.seed/run.seeds must not include the eval seed {EVAL_SEED}")
    _set_up_jax(config)
    steps = (args.steps if args.steps is not None
             else calibrated_steps(config, args.minutes, print))
    config = replace(config, **{"ppo.total_timesteps": steps})
    start_wall, start = time.time(), time.monotonic()
    commit = git_commit()
    result = train(config)
    return config, result, time.monotonic() - start, start_wall, commit


def finished_run(run_dir):
    """A finished run's (config, result, train seconds, start wall time, commit), from its files.

    The training time is the span from the run directory's creation to its last metrics row; the
    commit is the one run.json recorded when the run directory was created.
    """
    from hackmatrix.analysis.run_metrics import read_run_metrics, seed_dirs
    from hackmatrix.core import checkpoint as ckpt
    from hackmatrix.core.config import load_config, seed_list
    from hackmatrix.core.run_dir import read_run_info

    run_dir = Path(run_dir)
    config = load_config(str(run_dir / "config.yaml"), [])
    path = ckpt.resolve(run_dir)
    header, _ = ckpt.read_header(path)
    info = read_run_info(run_dir)
    start_wall = datetime.fromisoformat(info["created"]).timestamp()
    rows = read_run_metrics((seed_dirs(run_dir) or [run_dir])[0]).train
    result = SimpleNamespace(run_dir=run_dir, checkpoint=path, seeds=seed_list(config),
                             update=int(header["update"]),
                             status="finished")
    commit = (info.get("git_commit") or "")[:7] or None
    return config, result, rows[-1]["time"] - start_wall, start_wall, commit


def run_benchmark(args) -> list:
    """Train (or read a finished run), evaluate and record; returns the JSON records written."""
    sys.path.insert(0, str(ROOT))
    from hackmatrix.analysis.run_metrics import read_run_metrics, seed_dirs
    from hackmatrix.core.config import batch_size

    if args.evaluate:
        config, result, train_seconds, start_wall, commit = finished_run(args.evaluate)
    else:
        config, result, train_seconds, start_wall, commit = train_run(args)
    print(f"trained {result.update} updates in {train_seconds:.0f}s ({result.run_dir}); "
          f"evaluating {args.episodes} held-out games per mode...")
    eval_start = time.monotonic()
    per_seed, random = evaluate_seeds(result, args.episodes, args.eval_max_steps)
    eval_seconds = time.monotonic() - eval_start

    budget = ({"minutes": args.minutes} if args.minutes is not None
              else {"steps": config.ppo.total_timesteps})
    batch = batch_size(config)
    dirs = seed_dirs(result.run_dir) or [result.run_dir]
    records, curves = [], []
    for seed, run_dir, evals in zip(result.seeds, dirs, per_seed):
        rows = read_run_metrics(run_dir).train
        curves.append((seed, rows, batch))
        records.append({
            "label": args.label, "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
            "commit": commit, "overrides": list(args.overrides), "seed": seed,
            "seeds_in_run": len(result.seeds), "budget": budget,
            "env_steps": result.update * batch, "updates": result.update,
            "train_seconds": round(train_seconds, 1), "eval_seconds": round(eval_seconds, 1),
            "status": result.status, "eval_seed": EVAL_SEED, "eval_max_steps": args.eval_max_steps,
            "greedy": evals["greedy"], "sample": evals["sample"], "random": random,
            "time_to_quality": time_to_quality(rows, batch, start_wall),
            "health": health_record(rows),
        })
    out = Path(args.results)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    png = out.parent / f"learning_{args.label}.png"
    learning_curve_png(curves, png, f"{args.label}: {' '.join(args.overrides) or 'defaults'}, "
                                    f"{result.update * batch:,} env steps per seed")
    print(table(records))
    print(f"appended {len(records)} record(s) to {out}; learning curve {png}")
    return records


def _pct(x) -> str:
    return f"{100 * x:.1f}%"


def table(records) -> str:
    """Markdown table of benchmark records: greedy eval figures, with the random baseline."""
    head = ("| label | seed | env steps | train min | greedy final stage | >=2 | >=3 | >=4 | won "
            "| return (95% CI) | siphon | program | programs used | sampled final stage "
            "| random final stage | time to stage 2 |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in records:
        g, s, rnd = r["greedy"], r["sample"], r["random"]
        ttq = r["time_to_quality"]["stage_2"]
        ttq_text = f"{ttq['env_steps'] / 1e6:.1f}M" if ttq else "-"
        ci = g["return_ci95"] or 0.0
        lines.append(
            f"| {r['label']} | {r['seed']} | {r['env_steps'] / 1e6:.1f}M "
            f"| {r['train_seconds'] / 60:.0f} | {g['final_stage_mean']:.2f} "
            f"| {_pct(g['stage_reach']['>=2'])} | {_pct(g['stage_reach']['>=3'])} "
            f"| {_pct(g['stage_reach']['>=4'])} | {_pct(g['win_rate'])} "
            f"| {g['return_mean']:.2f} +- {ci:.2f} | {_pct(g['actions']['siphon_frac'])} "
            f"| {_pct(g['actions']['program_frac'])} | {g['distinct_programs']} "
            f"| {s['final_stage_mean']:.2f} | {rnd['final_stage_mean']:.2f} "
            f"| {ttq_text} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    """Run the benchmark (or print the table of recorded runs)."""
    args = parse_args(argv)
    if args.table:
        path = Path(args.results)
        records = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        print(table(records))
        return
    run_benchmark(args)


if __name__ == "__main__":
    main()
