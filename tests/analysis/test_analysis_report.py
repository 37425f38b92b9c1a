"""hackmatrix report: charts and summary of a real run, exact summary values of a hand-made one."""

import json
import os
import struct

import numpy as np
from analysis_kit import BATCH, UPDATES, run_cli
from matplotlib.image import imread

from hackmatrix.analysis.report_cli import write_report
from hackmatrix.analysis.run_metrics import read_run_metrics
from hackmatrix.cli import main
from hackmatrix.env.constants import REWARD_KEYS
from hackmatrix.sinks.jsonl import read_jsonl

# Pixel size of each chart: its figure size in inches x 110 dpi.
SIZES = {"rewards.png": (1210, 605), "actions.png": (1210, 770), "episodes.png": (1210, 770),
         "health.png": (1430, 770), "throughput.png": (990, 440)}


def _png_size(path) -> tuple:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_report_of_a_real_run(trained_run, eval_result, tmp_path):
    status, text = run_cli(["report", str(trained_run), "--out", str(tmp_path / "rep")])
    assert status == 0
    assert text.splitlines()[0] == f"wrote 6 files to {tmp_path / 'rep'}:"
    for name, size in SIZES.items():
        path = tmp_path / "rep" / name
        assert _png_size(path) == size
        pixels = imread(path).reshape(-1, 4)
        assert len(np.unique(pixels, axis=0)) > 100  # drawn, not an empty canvas
    summary = (tmp_path / "rep" / "summary.md").read_text()
    rows = [r for r in read_jsonl(trained_run / "metrics.jsonl") if "train/mean_reward" in r]
    assert summary.startswith("# Run report: tiny-001\n")
    assert (f"- updates logged: {UPDATES} (update 1 to {UPDATES}), {UPDATES * BATCH} env steps"
            in summary)
    ok = sum(r["health/approx_kl_ok"] for r in rows)
    assert f"| approx_kl | < 0.06 | {ok:.0f} of {UPDATES} ({ok / UPDATES:.0%}) |" in summary
    # The eval logged by --log-to-sinks is summarised, not mistaken for a training update.
    win = eval_result[0]["agent"]["win_rate"]
    assert f"## Latest eval (update {UPDATES}" in summary
    assert f"| win_rate | {win:.4g} |" in summary
    for name in SIZES:
        assert f"![{name[:-4]}]({name})" in summary


def _row(step, **values):
    row = {"step": step, "time": 1000.0 + step, "perf/sps": 100.0 * step,
           "perf/update_seconds": 2.0, "perf/env_steps": 64.0 * step,
           "train/mean_reward": 0.1, "train/entropy": 1.5, "train/approx_kl": 0.01,
           "train/clip_frac": 0.1, "health/approx_kl_ok": 1.0, "health/clip_frac_ok": 1.0,
           "health/entropy_ok": 1.0, "actions/move_frac": 1.0, "actions/siphon_frac": 0.0,
           "actions/program_frac": 0.0}
    row.update({f"reward/{k}": 0.0 for k in REWARD_KEYS})
    row.update(values)
    return row


def test_summary_values_of_a_hand_made_run(tmp_path):
    run = tmp_path / "hand-001"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"name": "hand-001", "run_id": "abc"}))
    rows = [
        _row(1, **{"episode/return_mean": -2.0, "episode/length_mean": 10.0,
                   "reward/step_penalty": -0.01, "reward/kills": 0.3}),
        # No episode finished in update 2; its entropy failed the check.
        _row(2, **{"train/entropy": 0.5, "health/entropy_ok": 0.0}),
        _row(3, **{"episode/return_mean": 4.0, "episode/length_mean": 30.0,
                   "train/approx_kl": None, "reward/step_penalty": -0.01,
                   "reward/damage_penalty": -0.5, "reward/kills": 0.3}),
        {"step": 3, "time": 2000.0, "eval/win_rate": 0.25, "eval/random/win_rate": 0.0,
         "eval/return_mean": 7.5, "perf/env_steps": 192.0},
    ]
    text = "".join(json.dumps(r) + "\n" for r in rows) + '{"step": 4, "ti'  # torn last line
    (run / "metrics.jsonl").write_text(text)
    metrics = read_run_metrics(run)
    assert [r["step"] for r in metrics.train] == [1, 2, 3] and len(metrics.evals) == 1
    steps, values = metrics.series("episode/return_mean")
    assert steps.tolist() == [1, 3] and values.tolist() == [-2.0, 4.0]
    assert metrics.series("train/approx_kl")[0].tolist() == [1, 2]

    paths = write_report(run)
    assert [p.name for p in paths] == [*SIZES, "summary.md"]
    summary = (run / "report" / "summary.md").read_text()
    lines = summary.splitlines()
    assert "- updates logged: 3 (update 1 to 3), 192 env steps" in lines
    assert ("- throughput: mean 200 env steps/s, last 300; 0h00m06s spent in the logged updates"
            in lines)
    assert "| return | -2 | 4 | 4 (3) |" in lines
    assert "| length | 10 | 30 | - |" in lines
    assert "| final stage | - | - | - |" in lines
    assert "| entropy | > 1 | 2 of 3 (67%) | 2 |" in lines
    assert "| approx_kl | < 0.06 | 3 of 3 (100%) | never |" in lines
    assert "| stall | length rise <= 0.1 while return is flat | not evaluated | - |" in lines
    assert lines[lines.index("## Largest reward components at the last update (3), per env step")
                 + 2:][:3] == ["- damage_penalty: -0.5", "- kills: 0.3", "- step_penalty: -0.01"]
    assert "| win_rate | 0.25 | 0 |" in lines and "| return_mean | 7.5 | - |" in lines


def test_report_needs_the_jsonl_metrics(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "the run must log to the jsonl sink" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "absent")]) == 2
    assert "is not a run directory" in capsys.readouterr().err


def test_summary_links_the_newest_episode_gif(tmp_path):
    from hackmatrix.analysis.episode_gif import write_gif

    run = tmp_path / "gif-001"
    run.mkdir()
    (run / "metrics.jsonl").write_text(json.dumps(_row(1, **{"episode/return_mean": 1.0})) + "\n")
    write_report(run)
    assert "## Newest episode" not in (run / "report" / "summary.md").read_text()
    frame = {"t": 0, "scenario": {}, "mask": [True] * 28, "probs": None, "value": None,
             "action": None, "reward": None, "breakdown": None}
    old = write_gif(run / "episodes" / "b.gif", [frame])
    new = write_gif(run / "episodes" / "a.gif", [frame])
    os.utime(old, (1000, 1000))
    write_report(run, tmp_path / "elsewhere")
    summary = (tmp_path / "elsewhere" / "summary.md").read_text()
    assert summary.endswith("## Newest episode\n\n![episode](../gif-001/episodes/a.gif)\n")
    assert (tmp_path / "elsewhere" / "../gif-001/episodes/a.gif").resolve() == new.resolve()


def test_training_logs_system_metrics_with_every_update(trained_run):
    rows = [r for r in read_jsonl(trained_run / "metrics.jsonl") if "train/mean_reward" in r]
    assert [r["step"] for r in rows] == list(range(1, UPDATES + 1))
    for row in rows:
        assert row["system/rss_mib"] > 0 and row["system/host_available_mib"] > 0
        assert row["system/cpu_percent"] >= 0
        assert "system/device_memory_mib" not in row  # the CPU backend reports no device memory


def test_a_line_that_is_not_utf8_is_skipped_with_a_warning(tmp_path, capsys):
    run = tmp_path / "bad-001"
    run.mkdir()
    good = [json.dumps(_row(step, **{"episode/return_mean": float(step)})) for step in (1, 2)]
    (run / "metrics.jsonl").write_bytes(
        good[0].encode() + b"\n\xff\xfe damaged\n" + good[1].encode() + b"\n")
    assert main(["report", str(run)]) == 0
    err = capsys.readouterr().err
    assert err == f"hackmatrix report: warning: {run / 'metrics.jsonl'}:2 is not UTF-8 text; skipped\n"
    assert [r["step"] for r in read_run_metrics(run).train] == [1, 2]


def test_an_unwritable_out_is_one_line_and_status_2(tmp_path, capsys):
    run = tmp_path / "out-001"
    run.mkdir()
    (run / "metrics.jsonl").write_text(json.dumps(_row(1, **{"episode/return_mean": 1.0})) + "\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    # A path under a regular file cannot be created even by root, unlike a read-only folder.
    for out, reason in [(a_file / "report", "Not a directory"), (a_file, "not a directory")]:
        assert main(["report", str(run), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"hackmatrix report: error: cannot write the report to '{out}'")
        assert reason in err and err.count("\n") == 1
