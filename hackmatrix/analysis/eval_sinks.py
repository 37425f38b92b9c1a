"""`hackmatrix eval --log-to-sinks`: one `eval/*` point in the sinks of the checkpoint's run.

The point goes to every sink of the run's config except the console (the eval table is already on
the screen), at the checkpoint's update number, with `perf/env_steps` so that wandb places it on
its env-steps axis. The sinks reopen the run as a resumed one whose last step is the last step
already logged, so nothing the training logged is discarded. Log an eval of a run that is not
training at the same time: a resumed MLflow run is marked finished again when the eval closes it.
For a seed of a multi-seed run, or one member's best checkpoint (best-seed-<s>.ckpt, a sweep's
best-p<point>-seed-<s>.ckpt), the point goes to that member's own runs (its <label>/ files, its
MLflow child run, its wandb run).
"""

import json
import math
from pathlib import Path

from hackmatrix.core import checkpoint as ckpt
from hackmatrix.core.config import flat_dict, num_updates
from hackmatrix.core.population import seed_label
from hackmatrix.core.run_dir import CHECKPOINT_DIR, read_run_info, run_dir_of_checkpoint
from hackmatrix.core.seed_group import labelled_run_info
from hackmatrix.env.constants import PROGRAM_NAMES, REWARD_KEYS
from hackmatrix.errors import SinkError
from hackmatrix.sinks import RunInfo, create_sinks, validate_sink_specs
from hackmatrix.sinks.state import read_sink_state

PREFIX = "eval/"
SCALARS = ("win_rate", "final_stage_mean", "final_stage_ci95", "return_mean", "return_ci95",
           "length_mean", "truncated_rate")


def summary_metrics(summary: dict, prefix: str) -> dict:
    """Flatten one summary of `evaluate` to {prefix + name: float}, leaving out undefined CIs.

    Programs appear twice: as a share of all actions and as uses per game (program_uses/).
    """
    out = {f"{prefix}{k}": summary[k] for k in SCALARS if summary[k] is not None}
    out.update({f"{prefix}actions/{k}": v for k, v in summary["actions"].items()})
    out.update({f"{prefix}actions/program/{name}": summary["programs"][name]["share"]
                for name in PROGRAM_NAMES})
    out.update({f"{prefix}program_uses/{name}": summary["programs"][name]["per_episode"]
                for name in PROGRAM_NAMES})
    out.update({f"{prefix}reward/{k}": summary["rewards"][k] for k in REWARD_KEYS})
    return {k: float(v) for k, v in out.items() if math.isfinite(v)}


def eval_metrics(result: dict) -> dict:
    """Return the `eval/*` point of an eval result: the agent's, and the baseline's as eval/random/*."""
    out = summary_metrics(result["agent"], PREFIX)
    out.update(summary_metrics(result["random"], PREFIX + "random/"))
    return out


def _jsonl_last_step(run_dir: Path) -> int:
    name = read_sink_state(run_dir, "jsonl").get("filename", "metrics.jsonl")
    path = run_dir / name
    if not path.is_file():
        return 0
    steps = [json.loads(line).get("step", 0) for line in path.read_text().splitlines()
             if line.strip()]
    return max(steps, default=0)


def last_logged_step(run_dir: Path, header: dict, sinks_dir: Path | None = None) -> int:
    """Return the last update the run logged (from its checkpoints and its JSONL file).

    `sinks_dir` is where the JSONL file is (a multi-seed run's seed-<s>/; default: run_dir).
    """
    steps = [int(header.get("update", 0)), int(header.get("last_logged_step") or 0),
             _jsonl_last_step(sinks_dir or run_dir)]
    newest = ckpt.list_checkpoints(run_dir / CHECKPOINT_DIR)
    if newest:
        newest_header, _ = ckpt.read_header(newest[-1])
        steps.append(int(newest_header.get("last_logged_step") or 0))
    return max(steps)


def member_label_of(policy) -> str | None:
    """Return the sub-run of the run that a policy belongs to (None: the run's own sinks).

    A multi-seed checkpoint names the seed through the policy; a best checkpoint of one member
    (best-seed-<s>.ckpt, a sweep's best-p<point>-seed-<s>.ckpt) carries the member's label.
    """
    if policy.header.get("member"):
        return str(policy.header["member"])
    return None if policy.seed is None else seed_label(policy.seed)


def log_eval_to_sinks(policy, result: dict) -> list:
    """Log the eval point to the sinks of the policy's run; return the sink names used."""
    specs = [s for s in validate_sink_specs(list(policy.config.sinks)) if s["type"] != "console"]
    if not specs:
        raise SinkError(f"the run of '{policy.checkpoint}' logs to no sink but the console; "
                        f"use --json FILE to keep the eval results")
    run_dir = run_dir_of_checkpoint(policy.checkpoint)
    info = read_run_info(run_dir)
    label = member_label_of(policy)
    sinks_dir = run_dir if label is None else run_dir / label
    run_info = RunInfo(
        name=info.get("name") or policy.header.get("name") or run_dir.name,
        run_id=info.get("run_id") or policy.header.get("run_id") or run_dir.name,
        directory=run_dir, config=flat_dict(policy.config), git_commit=info.get("git_commit"),
        resumed=True, start_step=last_logged_step(run_dir, policy.header, sinks_dir),
        total_updates=num_updates(policy.config))
    if label is not None:
        run_info = labelled_run_info(run_info, label, policy.seed)
    point = eval_metrics(result)
    point["perf/env_steps"] = float(policy.env_steps)
    sinks = create_sinks(specs, run_info)
    status = "failed"
    try:
        for sink in sinks:
            sink.log_metrics(point, policy.update)
        status = "finished"
    finally:
        for sink in sinks:
            sink.close(status)
    return [s["type"] for s in specs]
