"""Real training on the real game: metric keys, exact resume after Ctrl-C, two devices = one."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hackmatrix.core import load_config
from hackmatrix.core.loop import train
from hackmatrix.core.parallel import compile_for_config, make_mesh
from hackmatrix.core.resume import prepare_resume
from hackmatrix.env.constants import PROGRAM_NAMES, REWARD_KEYS
from hackmatrix.sinks.jsonl import read_jsonl

# Tiny but real: 8 games x 8 steps, 16 updates in chunks of 2. All tests here (and the
# two-device subprocess) use this one config, so the process compiles the chunk once.
SMALL = ["env.num_envs=8", "ppo.num_steps=8", "ppo.total_timesteps=1024",
         "ppo.num_minibatches=2", "ppo.update_epochs=2", "network.hidden_sizes=[32]",
         "run.updates_per_chunk=2", "checkpoint.every_updates=4", "checkpoint.keep_last=10",
         "sinks=[jsonl]"]
TWO_DEVICE_SCRIPT = Path(__file__).with_name("two_devices.py")


@pytest.fixture(scope="module")
def two_device_run(tmp_path_factory):
    """Start the two-device run in a subprocess now; the test collects it at the end."""
    out = tmp_path_factory.mktemp("two_devices") / "params.npz"
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               JAX_PLATFORMS="cpu")
    proc = subprocess.Popen([sys.executable, str(TWO_DEVICE_SCRIPT), str(out), *SMALL], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield proc, out
    if proc.poll() is None:
        proc.kill()


@pytest.fixture(scope="module")
def config():
    return load_config(None, SMALL)


@pytest.fixture(scope="module")
def compiled(config, two_device_run):
    return compile_for_config(config, make_mesh())


def test_one_chunk_yields_every_metric_finite(compiled):
    runner = compiled.init(jax.random.PRNGKey(0))
    runner, metrics = compiled.chunk(runner, jnp.int32(2))
    assert int(runner.update) == 2
    expected = {f"reward/{k}" for k in REWARD_KEYS} | {
        f"actions/program/{name}" for name in PROGRAM_NAMES} | {
        "train/mean_reward", "actions/move_frac", "actions/siphon_frac", "actions/program_frac",
        "stats/highest_stage", "stats/mean_stage", "episode/return_mean", "episode/length_mean",
        "episode/final_stage_mean", "episode/win_rate", "episode/truncated_rate",
        "episode/count", "train/approx_kl", "train/clip_frac", "train/entropy",
        "train/policy_loss", "train/value_loss", "train/total_loss", "train/grad_norm",
        "train/learning_rate"}
    assert set(metrics) == expected
    for key, value in metrics.items():
        value = np.asarray(value)
        assert value.shape == (2,), key
        assert np.all(np.isfinite(value)), key
    for i in range(2):
        parts = sum(float(metrics[f"reward/{k}"][i]) for k in REWARD_KEYS)
        assert parts == pytest.approx(float(metrics["train/mean_reward"][i]), abs=1e-4)
        fractions = (metrics["actions/move_frac"][i] + metrics["actions/siphon_frac"][i]
                     + metrics["actions/program_frac"][i])
        assert float(fractions) == pytest.approx(1.0, abs=1e-6)
        programs = sum(float(metrics[f"actions/program/{n}"][i]) for n in PROGRAM_NAMES)
        assert programs == pytest.approx(float(metrics["actions/program_frac"][i]), abs=1e-6)
    lr = np.asarray(metrics["train/learning_rate"])
    np.testing.assert_allclose(lr, [1.5e-3, 1.5e-3 * (1 - 1 / 16)], rtol=1e-6)


def _interrupt_when_logged(path: Path):
    """SIGINT this process once the first metrics line appears (a real Ctrl-C)."""
    def watch():
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if path.exists() and path.read_text().strip():
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.005)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_interrupted_and_resumed_run_is_bit_identical(config, compiled, tmp_path):
    whole = train(load_config(None, SMALL + [f"run.runs_dir={tmp_path / 'a'}"]), log=print)
    assert whole.status == "finished" and whole.update == 16

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a late SIGINT must not kill pytest
    try:
        runs_b = tmp_path / "b"
        watcher = _interrupt_when_logged(runs_b / "ppo-001" / "metrics.jsonl")
        cut = train(load_config(None, SMALL + [f"run.runs_dir={runs_b}"]), log=print)
        watcher.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert cut.status == "interrupted"
    assert 2 <= cut.update < 16 and cut.update % 2 == 0
    assert cut.checkpoint.name == f"update_{cut.update:08d}.ckpt"

    resumed_config, point = prepare_resume(cut.run_dir)
    assert point.checkpoint == cut.checkpoint
    rest = train(resumed_config, resume=point, log=print)
    assert rest.status == "finished" and rest.update == 16
    for a, b in zip(jax.tree.leaves(whole.params), jax.tree.leaves(rest.params), strict=True):
        np.testing.assert_array_equal(a, b)
    rows = read_jsonl(cut.run_dir / "metrics.jsonl")
    assert [r["step"] for r in rows] == list(range(1, 17))
    assert rows[-1]["perf/env_steps"] == 16 * 64
    whole_rows = read_jsonl(whole.run_dir / "metrics.jsonl")
    assert [r["train/total_loss"] for r in rows] == [r["train/total_loss"] for r in whole_rows]


def test_two_devices_match_one(config, compiled, two_device_run):
    proc, out = two_device_run
    runner = compiled.init(jax.random.PRNGKey(config.run.seed))
    runner, metrics = compiled.chunk(runner, jnp.int32(2))
    output, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, output
    info = json.loads(output.strip().splitlines()[-1])
    assert info["devices"] == 2 and info["env_shards"] == 2
    two = np.load(out)
    one = jax.tree_util.tree_leaves_with_path(jax.device_get(runner.params))
    assert len(one) + 1 == len(two.files)  # the params and the losses
    for path, leaf in one:
        np.testing.assert_allclose(two[jax.tree_util.keystr(path)], leaf, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(two["__total_loss"], np.asarray(metrics["train/total_loss"]),
                               rtol=1e-4, atol=1e-5)
