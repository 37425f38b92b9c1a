"""Evaluation during training on the real game: eval/* in the sinks, best.ckpt, GIFs, exports.

The run has the package's tiny training shapes and eval game count, so it reuses the compiled
training chunk and eval games of the package's fixtures (eval_result runs first).
"""

import functools
import importlib.util
import io
import json
import math
from pathlib import Path

import pytest
from analysis_kit import EPISODES, TRAIN, UPDATES, run_cli
from PIL import Image

from hackmatrix.cli import main
from hackmatrix.core import checkpoint as ckpt
from hackmatrix.core import load_config, make_train
from hackmatrix.core.loop import train
from hackmatrix.core.resume import prepare_resume
from hackmatrix.core.train_cli import exit_status
from hackmatrix.sinks.jsonl import read_jsonl
from hackmatrix.sinks.state import read_sink_state
from hackmatrix.sweep.run import run_sweep
from hackmatrix.sweep.spec import parse_sweep

EVAL = [f"eval.every_updates={UPDATES}", f"eval.episodes={EPISODES}", "eval.max_steps=40",
        "eval.gif_every=1", "eval.gif_max_steps=6", "eval.metric=win_rate", "eval.target=0.0"]


@pytest.fixture(scope="module")
def eval_run(eval_result, tmp_path_factory):
    """A run evaluating at its last update, stopping early there (win rate 0 meets target 0)."""
    root = tmp_path_factory.mktemp("evalruns")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    sinks = f"sinks=[jsonl, tensorboard, {{type: mlflow, tracking_uri: '{uri}'}}]"
    assert main(["train", *TRAIN, *EVAL, sinks, f"run.runs_dir={root}"]) == 0
    return root / "tiny-001", uri


def _decodes_as_animation(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as image:
        image.seek(image.n_frames - 1)
        return image.n_frames


def test_eval_metrics_reach_jsonl_and_tensorboard_at_the_eval_update(eval_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir, _ = eval_run
    rows = read_jsonl(run_dir / "metrics.jsonl")
    assert [r["step"] for r in rows if "eval/win_rate" in r] == [UPDATES]
    last = rows[-1]
    assert last["eval/win_rate"] == 0.0 and last["perf/eval_seconds"] > 0
    assert {"eval/final_stage_mean", "eval/return_ci95", "eval/length_mean",
            "eval/actions/move_frac", "eval/program_uses/WAIT"} <= set(last)
    assert "system/compile_seconds" in last
    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    assert [e.step for e in events.Scalars("eval/win_rate")] == [UPDATES]
    (image,) = events.Images("eval/episode")
    assert image.step == UPDATES and _decodes_as_animation(image.encoded_image_string) > 1


def test_best_checkpoint_gif_and_exports_are_in_the_run(eval_run):
    run_dir, _ = eval_run
    header, _ = ckpt.read_header(run_dir / "checkpoints" / "best.ckpt")
    assert header["best"] == {"metric": "eval/win_rate", "value": 0.0, "update": UPDATES}
    final, _ = ckpt.read_header(ckpt.list_checkpoints(run_dir / "checkpoints")[-1])
    assert final["eval"][0]["history"] == [[UPDATES, 0.0]]
    gif = run_dir / "episodes" / f"update_{UPDATES:08d}.gif"
    assert _decodes_as_animation(gif.read_bytes()) > 1
    for name in ("final", "best"):
        meta = json.loads((run_dir / "exports" / name / "policy.json").read_text())
        assert meta["source"]["update"] == UPDATES


def test_mlflow_holds_the_gif_and_the_exports_as_artifacts(eval_run):
    from mlflow.tracking import MlflowClient

    run_dir, uri = eval_run
    client = MlflowClient(tracking_uri=uri)
    run_id = read_sink_state(run_dir, "mlflow")["run_id"]
    assert [m.step for m in client.get_metric_history(run_id, "eval/win_rate")] == [UPDATES]
    episodes = [a.path for a in client.list_artifacts(run_id, "episodes")]
    assert episodes == [f"episodes/update_{UPDATES:08d}.gif"]
    exported = {a.path for a in client.list_artifacts(run_id, "exports/best")}
    assert exported == {"exports/best/params.msgpack", "exports/best/policy.json"}


def test_eval_and_watch_take_the_best_checkpoint(eval_run, tmp_path):
    run_dir, _ = eval_run
    status, text = run_cli(["eval", str(run_dir), "--best", "--episodes", str(EPISODES),
                            "--max-steps", "40"])
    assert status == 0 and "best.ckpt" in text
    status, text = run_cli(["watch", str(run_dir), "--best", "--speed", "0", "--max-steps", "2",
                            "--no-colour"], stdin=io.StringIO(""), sleep=lambda s: None)
    assert status == 0 and "best.ckpt" in text
    assert main(["eval", str(tmp_path), "--best"]) == 2


def _probe_kit():
    """The host-loop probe trainer of tests/core (its conftest, loaded under another name)."""
    path = Path(__file__).parents[1] / "core" / "conftest.py"
    spec = importlib.util.spec_from_file_location("core_probe_kit", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _probe_train(root, *extra, resume=None):
    """Train the probe (8 updates, chunks of 2) evaluating the real game every 2 updates."""
    kit = _probe_kit()
    overrides = [*kit.LOOP_BASE, "network.hidden_sizes=[16]", f"run.runs_dir={root}",
                 "eval.every_updates=2", f"eval.episodes={EPISODES}", "eval.max_steps=40",
                 *extra]
    config = load_config(None, overrides)
    if resume is not None:
        config, resume = prepare_resume(resume)
    trainer = make_train(config, kit.ProbeEnv(), None, kit.probe_train_reduce)
    return train(config, trainer=trainer, resume=resume, log=lambda *a: None)


def test_resume_keeps_the_best_the_patience_count_and_the_history(eval_result, tmp_path):
    whole = _probe_train(tmp_path, "eval.metric=return_mean")
    rows = read_jsonl(whole.run_dir / "metrics.jsonl")
    assert [r["step"] for r in rows if "eval/return_mean" in r] == [2, 4, 6, 8]
    state = ckpt.read_header(whole.checkpoint)[0]["eval"]
    history = state[0]["history"]
    assert [u for u, _ in history] == [2, 4, 6, 8]
    best = max(history, key=lambda h: h[1])  # the first of the best values: ties do not replace it
    best_header = ckpt.read_header(whole.run_dir / "checkpoints" / "best.ckpt")[0]
    assert [best_header["best"]["update"], best_header["best"]["value"]] == best
    resumed = _probe_train(tmp_path, resume=whole.run_dir / "checkpoints" / "update_00000006.ckpt")
    assert resumed.update == 8
    assert ckpt.read_header(resumed.checkpoint)[0]["eval"] == state


def test_early_stop_after_patience_evals_without_improvement(eval_result, tmp_path):
    result = _probe_train(tmp_path, "eval.metric=win_rate", "eval.patience=1")
    # Win rate 0 at update 2 is the first best; 0 again at update 4 is no improvement.
    assert (result.status, result.update) == ("early_stopped", 4)
    assert "eval/win_rate did not improve in 1 evals" in result.stop_reason
    assert exit_status(result) == 0


def test_every_seed_of_a_multi_seed_run_is_evaluated(eval_result, tmp_path):
    """run.seeds=2: each seed has its own eval/* points and its own best checkpoint."""
    assert main(["train", *TRAIN, *EVAL, "run.seeds=2", "sinks=[jsonl]",
                 f"run.runs_dir={tmp_path}"]) == 0
    run_dir = tmp_path / "tiny-001"
    for seed in (0, 1):
        rows = read_jsonl(run_dir / f"seed-{seed}" / "metrics.jsonl")
        assert [r["step"] for r in rows if "eval/win_rate" in r] == [UPDATES]
        assert (run_dir / "checkpoints" / f"best-seed-{seed}.ckpt").is_file()
    assert not (run_dir / "checkpoints" / "best.ckpt").exists()
    # The eval of a seed's best checkpoint goes to that seed's own sinks.
    assert main(["eval", str(run_dir), "--best", "--seed-index", "1", "--episodes",
                 str(EPISODES), "--log-to-sinks"]) == 0
    evals = [r for r in read_jsonl(run_dir / "seed-1" / "metrics.jsonl") if "eval/win_rate" in r]
    assert len(evals) == 2
    assert "eval/random/win_rate" in evals[-1]
    assert not any("eval/random/win_rate" in r for r in read_jsonl(run_dir / "seed-0" /
                                                                   "metrics.jsonl"))


def test_every_run_of_a_sweep_is_evaluated_and_keeps_its_own_best(eval_result, tmp_path):
    """A sweep (2 points x 2 seeds) with evals: each run has eval/* points and a best file."""
    kit = _probe_kit()
    base = load_config(None, [*kit.LOOP_BASE, "network.hidden_sizes=[16]",
                              f"run.runs_dir={tmp_path}", "eval.every_updates=4",
                              f"eval.episodes={EPISODES}", "eval.max_steps=40",
                              "eval.metric=win_rate"])
    spec = parse_sweep({"method": "grid", "seeds": 2,
                        "score": {"metric": "eval/win_rate", "last": 8},
                        "params": {"ppo.ent_coef": [0.0, 0.05]}})
    trainer = make_train(base, kit.ProbeEnv(), None, kit.probe_train_reduce)
    result = run_sweep(base, spec, train_fn=functools.partial(train, trainer=trainer),
                       log=lambda *a: None)
    batch = result.sweep_dir / "batch-001"
    for label in ("p000-seed-0", "p000-seed-1", "p001-seed-0", "p001-seed-1"):
        rows = read_jsonl(batch / label / "metrics.jsonl")
        assert [r["step"] for r in rows if "eval/win_rate" in r] == [4, 8]
        header, _ = ckpt.read_header(batch / "checkpoints" / f"best-{label}.ckpt")
        assert header["member"] == label
        assert header["best"]["update"] == 4  # win rate 0 at update 8 does not improve on it
        assert (batch / label / "exports" / "best" / "policy.json").is_file()
    assert not (batch / "checkpoints" / "best.ckpt").exists()
    assert all(math.isfinite(point.mean) for point in result.ranked)  # scored by the evals
    best = batch / "checkpoints" / "best-p001-seed-1.ckpt"
    header, _ = ckpt.read_header(best)  # the point's own PPO values, not the batch's
    assert header["config"]["ppo"]["ent_coef"] == header["hparams"]["ent_coef"] == 0.05
