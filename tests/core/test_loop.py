"""The host loop on the probe env: checkpoints, NaN stop, resume checks, signals, lock, CLI."""

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LOOP_BASE, ProbeEnv, probe_train_reduce

from hackmatrix.core import checkpoint as ckpt
from hackmatrix.core import load_config, loop, make_train, train_cli
from hackmatrix.core.loop import TrainingDivergedError, train
from hackmatrix.core.resume import prepare_resume
from hackmatrix.core.run_lock import RunLock, RunLockedError
from hackmatrix.core.signals import Interrupted, Signals
from hackmatrix.errors import CheckpointError, ConfigError, SinkError
from hackmatrix.sinks.jsonl import read_jsonl


@pytest.fixture(scope="module")
def base_trainer():
    """One probe trainer for the LOOP_BASE config, so the module compiles it once."""
    return make_train(load_config(None, LOOP_BASE), ProbeEnv(), None, probe_train_reduce)


def _train(tmp_path, *extra, trainer=None):
    config = load_config(None, LOOP_BASE + [f"run.runs_dir={tmp_path}", *extra])
    trainer = trainer or make_train(config, ProbeEnv(), None, probe_train_reduce)
    return train(config, trainer=trainer, log=lambda *a: None)


def test_checkpoint_schedule_and_outputs(tmp_path, base_trainer):
    result = _train(tmp_path, trainer=base_trainer)
    assert result.status == "finished" and result.update == 8
    names = [p.name for p in ckpt.list_checkpoints(result.run_dir / "checkpoints")]
    # Chunks end at 2, 4, 6, 8: due at 4 (crossed 3) and 6 (crossed 6), final at 8; keep 2.
    assert names == ["update_00000006.ckpt", "update_00000008.ckpt"]
    header, _ = ckpt.read_header(result.checkpoint)
    assert header["update"] == 8 and header["last_logged_step"] == 8
    assert header["env_steps"] == 8 * 128
    assert header["config"]["env"]["num_envs"] == 16
    assert [row["step"] for row in read_jsonl(result.run_dir / "metrics.jsonl")] == list(
        range(1, 9))
    assert (result.run_dir / "config.yaml").is_file() and (result.run_dir / "run.json").is_file()
    assert result.run_dir.name == "ppo-001"
    assert _train(tmp_path, trainer=base_trainer).run_dir.name == "ppo-002"


def test_nan_loss_stops_with_the_update_and_saves_nothing(tmp_path):
    with pytest.raises(TrainingDivergedError) as err:
        _train(tmp_path, "ppo.learning_rate=1e30", "ppo.anneal_lr=false")
    message = str(err.value)
    assert "train/total_loss = nan at update 1" in message
    assert "no checkpoint was written yet" in message
    run_dir = tmp_path / "ppo-001"
    assert ckpt.list_checkpoints(run_dir / "checkpoints") == []


def test_resume_skips_a_corrupt_newest_checkpoint_and_overwrites_nothing(tmp_path, base_trainer):
    result = _train(tmp_path, trainer=base_trainer)
    older, newest = ckpt.list_checkpoints(result.run_dir / "checkpoints")
    data = bytearray(newest.read_bytes())
    data[-5] ^= 0xFF
    newest.write_bytes(bytes(data))
    before = {p: p.read_bytes() for p in result.run_dir.rglob("*") if p.is_file()}
    warnings = []
    _config, point = prepare_resume(result.run_dir, warn=warnings.append)
    assert point.checkpoint == older and point.header["update"] == 6
    assert "skipping checkpoint update_00000008.ckpt" in warnings[0]
    assert "corrupt or truncated" in warnings[0] and str(older) in warnings[1]
    # A file named explicitly is not replaced by another one.
    with pytest.raises(CheckpointError, match="corrupt or truncated.*--resume <run dir>"):
        prepare_resume(newest)
    older.write_bytes(older.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="no valid checkpoint"):
        prepare_resume(result.run_dir, warn=warnings.append)
    after = {p: p.read_bytes() for p in result.run_dir.rglob("*") if p.is_file()}
    assert set(after) == set(before)
    assert {p: b for p, b in after.items() if p != older} == {
        p: b for p, b in before.items() if p != older}


def test_resume_allows_only_harmless_overrides(tmp_path, base_trainer):
    result = _train(tmp_path, trainer=base_trainer)
    with pytest.raises(ConfigError, match="'ppo.ent_coef' cannot change when resuming"):
        prepare_resume(result.run_dir, ["ppo.ent_coef=0.5"])
    config, point = prepare_resume(result.checkpoint, ["checkpoint.keep_last=5", "sinks=[]"])
    assert config.checkpoint.keep_last == 5 and config.sinks == ()
    assert point.run_dir == result.run_dir and point.header["update"] == 8
    assert config.env.num_envs == 16 and "env.num_envs" in config.explicit


def test_resume_into_a_smaller_network_is_refused(tmp_path, base_trainer):
    result = _train(tmp_path, trainer=base_trainer)
    _config, point = prepare_resume(result.run_dir)
    other = load_config(None, LOOP_BASE + ["network.hidden_sizes=[16]"])
    trainer = make_train(other, ProbeEnv(), None, probe_train_reduce)
    with pytest.raises(CheckpointError, match=r"another config; keys that differ: "
                       r"network.hidden_sizes \(\[32\] there, \[16\] here\) \(checkpoint.*incompatible"):
        train(other, trainer=trainer, resume=point, log=lambda *a: None)
    assert ckpt.list_checkpoints(result.run_dir / "checkpoints")[-1] == result.checkpoint


def _cli(argv):
    parser = argparse.ArgumentParser(prog="hackmatrix")
    train_cli.register(parser.add_subparsers())
    args = parser.parse_args(["train", *argv])
    return args.func(args)


@pytest.mark.parametrize("argv, message", [
    (["ppo.ent_coeff=0.2"], "did you mean 'ppo.ent_coef'"),
    (["sinks=[console, nosuchsink]"], "unknown sink type 'nosuchsink'"),
    (["env.num_envs=8", "ppo.num_minibatches=3"], "must divide"),
    (["--resume", "/nonexistent/run"], "neither a checkpoint file nor a run directory"),
])
def test_cli_errors_come_before_any_compile(argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises((ConfigError, CheckpointError), match=message):
        _cli(argv)
    assert not (tmp_path / "runs").exists()


def test_signals_stop_the_armed_loop_once_and_report_a_second_signal(capsys):
    with Signals() as signals:
        with pytest.raises(Interrupted) as early:
            os.kill(os.getpid(), signal.SIGTERM)
        assert early.value.signum == signal.SIGTERM and not signals.requested
        signals.armed = True
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        assert signals.signum == signal.SIGINT
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    err = capsys.readouterr().err
    assert "Ctrl-C: finishing the current chunk" in err
    assert "SIGTERM: shutdown already in progress" in err


@pytest.mark.parametrize("status, signum, code", [
    ("finished", None, 0), ("stopped", None, 1), ("interrupted", signal.SIGINT, 130),
    ("interrupted", signal.SIGTERM, 143)])
def test_exit_status_tells_how_the_run_ended(status, signum, code):
    result = loop.RunResult(Path("."), status, 1, None, None, signum=signum)
    assert train_cli.exit_status(result) == code


def test_a_failed_sink_exits_3_unless_told_to_warn():
    failed = loop.RunResult(Path("."), "finished", 1, None, None,
                            sink_failures=("sink 'mlflow' failed from update 3: ...",))
    assert train_cli.exit_status(failed) == 3
    assert train_cli.exit_status(failed, "warn") == 0
    interrupted = loop.RunResult(Path("."), "interrupted", 1, None, None, signum=signal.SIGTERM,
                                 sink_failures=failed.sink_failures)
    assert train_cli.exit_status(interrupted) == 143


def test_run_lock_names_the_holder_and_ends_with_it(tmp_path):
    lock = RunLock(tmp_path)
    with pytest.raises(RunLockedError, match=f"'{tmp_path}' is in use by process {os.getpid()}"):
        RunLock(tmp_path)
    lock.release()
    RunLock(tmp_path).release()  # the file left behind does not block a later run
    code = ("import sys, time; from hackmatrix.core.run_lock import RunLock; "
            "RunLock(sys.argv[1]); print(flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE)
    holder.stdout.readline()
    with pytest.raises(RunLockedError, match=f"process {holder.pid}"):
        RunLock(tmp_path)
    holder.kill()
    holder.wait()
    RunLock(tmp_path).release()


def test_a_second_resume_of_a_live_run_is_refused(tmp_path, base_trainer):
    result = _train(tmp_path, trainer=base_trainer)
    _config, point = prepare_resume(result.run_dir)
    lock = RunLock(result.run_dir)
    try:
        with pytest.raises(RunLockedError, match="in use by process"):
            train(_config, trainer=base_trainer, resume=point, log=lambda *a: None)
    finally:
        lock.release()


def test_a_run_that_fails_before_its_first_update_leaves_no_directory(tmp_path, base_trainer):
    # The sink cannot open (run.json is a file, not a folder) after the run directory exists.
    with pytest.raises(SinkError, match="sink 'jsonl' failed to open"):
        _train(tmp_path, "sinks=[{type: jsonl, filename: run.json/m.jsonl}]", trainer=base_trainer)
    assert list(tmp_path.iterdir()) == []
