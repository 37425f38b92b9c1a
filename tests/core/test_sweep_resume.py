"""A sweep stopped by Ctrl-C and continued with `--resume` ends as an uninterrupted sweep: the
batch that was training resumes from its checkpoint (every run's JSONL equals the uninterrupted
sweep's), an Optuna sweep reloads its study and asks the rest, and a bad --resume is refused."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_worker import UPDATES

from hackmatrix.cli import main
from hackmatrix.core import load_config
from hackmatrix.sinks.jsonl import read_jsonl
from hackmatrix.sweep.run import new_sweep_state
from hackmatrix.sweep.spec import parse_sweep
from hackmatrix.sweep.state import load_sweep

WORKER = Path(__file__).with_name("sweep_worker.py")
DEADLINE_S = 600
SWEEP = "ppo-sweep-001"


def _start(tmp_path, method: str, runs: str, resume=None):
    """Start a sweep worker whose output goes to a file the test can read."""
    argv = [sys.executable, str(WORKER), method, str(tmp_path / runs),
            *([str(resume)] if resume else [])]
    log = tmp_path / f"{runs}-{len(list(tmp_path.glob(f'{runs}-*.log')))}.log"
    with log.open("w") as out:
        process = subprocess.Popen(argv, cwd=WORKER.parent, stdout=out, stderr=subprocess.STDOUT,
                                   text=True)
    process.log = log
    return process


def _finish(process) -> tuple:
    process.wait(timeout=DEADLINE_S)
    return process.returncode, process.log.read_text(errors="replace")


def _interrupt_after(process, jsonl: Path, lines: int) -> tuple:
    """SIGINT once the run of `jsonl` logged `lines` updates; return (status, output)."""
    deadline = time.monotonic() + DEADLINE_S
    while not jsonl.exists() or jsonl.read_bytes().count(b"\n") < lines:
        assert process.poll() is None, f"worker ended early:\n{_finish(process)[1]}"
        assert time.monotonic() < deadline, "worker too slow"
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    return _finish(process)


def _train_rows(path: Path) -> dict:
    rows = read_jsonl(path)
    return {key: [(row["step"], row[key]) for row in rows if key in row]
            for key in rows[0] if key.startswith("train/")}


def _record(sweep_dir: Path) -> dict:
    return json.loads((sweep_dir / "sweep.json").read_text())


@pytest.mark.timeout(1200)
def test_a_grid_sweep_interrupted_and_resumed_equals_an_uninterrupted_one(tmp_path):
    whole = _start(tmp_path, "grid", "whole")
    part = _start(tmp_path, "grid", "part")
    sweep = tmp_path / "part" / SWEEP
    status, out = _interrupt_after(part, sweep / "batch-001" / "p000-seed-0" / "metrics.jsonl",
                                   UPDATES // 3)
    assert status == 130, out
    assert f"hackmatrix sweep --resume {sweep}" in out
    assert _record(sweep)["batches"][0]["status"] == "interrupted"
    status, out = _finish(_start(tmp_path, "grid", "part", resume=sweep))
    assert status == 0, out
    assert "resuming batch-001 at update" in out
    assert _finish(whole)[0] == 0
    for label in ("p000-seed-0", "p000-seed-1", "p001-seed-0", "p001-seed-1"):
        got = _train_rows(sweep / "batch-001" / label / "metrics.jsonl")
        assert [step for step, _ in got["train/mean_reward"]] == list(range(1, UPDATES + 1))
        assert got == _train_rows(tmp_path / "whole" / SWEEP / "batch-001" / label /
                                  "metrics.jsonl"), label
    ranking = json.loads((sweep / "ranking.json").read_text())
    expected = json.loads((tmp_path / "whole" / SWEEP / "ranking.json").read_text())
    assert ranking["points"] == expected["points"]
    assert _record(sweep)["batches"][0]["status"] == "finished"


@pytest.mark.timeout(1200)
def test_an_optuna_sweep_resumes_its_study_and_asks_the_rest(tmp_path):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    part = _start(tmp_path, "optuna", "runs")
    sweep = tmp_path / "runs" / SWEEP
    status, out = _interrupt_after(part, sweep / "batch-001" / "p001-seed-0" / "metrics.jsonl",
                                   UPDATES // 3)
    assert status == 130, out
    asked = _record(sweep)["points"]
    assert len(asked) == 2
    status, out = _finish(_start(tmp_path, "optuna", "runs", resume=sweep))
    assert status == 0, out
    record = _record(sweep)
    assert record["points"][:2] == asked  # the interrupted trials kept their values
    assert [b["points"] for b in record["batches"]] == [[0, 1], [2]]
    assert [b["status"] for b in record["batches"]] == ["finished", "finished"]
    storage = JournalStorage(JournalFileBackend(str(sweep / "optuna.log")))
    study = optuna.load_study(study_name="sweep", storage=storage)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3
    assert [t.params["ppo.learning_rate"] for t in study.trials] == [
        p["ppo.learning_rate"] for p in record["points"]]
    steps = [r["step"] for r in read_jsonl(sweep / "batch-001" / "p001-seed-0" / "metrics.jsonl")]
    assert steps == list(range(1, UPDATES + 1))  # resumed: every update once
    ranked = json.loads((sweep / "ranking.json").read_text())["points"]
    assert sorted(p["point"] for p in ranked) == [0, 1, 2]


def test_resume_of_a_directory_without_a_sweep_is_refused(tmp_path, capsys):
    assert main(["sweep", "--resume", str(tmp_path)]) == 2
    assert "not a sweep directory (no sweep.json)" in capsys.readouterr().err


def test_resume_takes_the_spec_from_the_sweep_directory(tmp_path, capsys):
    assert main(["sweep", "--resume", str(tmp_path), "--sweep", "s.yaml"]) == 2
    assert "leave out --config and --sweep" in capsys.readouterr().err


def test_resume_refuses_an_override_that_changes_the_training(tmp_path, capsys):
    base = load_config(None, [f"run.runs_dir={tmp_path}", "sinks=[jsonl]"])
    state = new_sweep_state(base, parse_sweep({"method": "grid",
                                               "params": {"ppo.ent_coef": [0.0, 0.1]}}))
    assert main(["sweep", "--resume", str(state.sweep_dir), "ppo.num_steps=16"]) == 2
    assert "'ppo.num_steps' cannot change when resuming" in capsys.readouterr().err
    resumed = load_sweep(state.sweep_dir, ["sinks=[jsonl, tensorboard]"])
    assert resumed.points == state.points
    assert resumed.base.sinks == ("jsonl", "tensorboard")


def test_a_damaged_sweep_record_is_refused(tmp_path, capsys):
    (tmp_path / "sweep.json").write_text('{"spec": ')
    assert main(["sweep", "--resume", str(tmp_path)]) == 2
    assert "sweep.json' cannot be resumed" in capsys.readouterr().err
