"""Multi-seed runs (run.seeds) on the probe env: config, equality with one-seed runs, resume."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
from conftest import LOOP_BASE, ProbeEnv, probe_train_reduce
from two_device_members import train_members

from hackmatrix.core import checkpoint as ckpt
from hackmatrix.core import load_config, make_train
from hackmatrix.core.config import is_multi_seed, seed_list
from hackmatrix.core.loop import train
from hackmatrix.core.resume import prepare_resume
from hackmatrix.core.seed_group import group_point
from hackmatrix.errors import ConfigError
from hackmatrix.sinks.jsonl import read_jsonl


@pytest.fixture(scope="module")
def trainer():
    """One probe trainer for LOOP_BASE (seeds do not change it), so the module compiles it once."""
    return make_train(load_config(None, LOOP_BASE), ProbeEnv(), None, probe_train_reduce)


def _train(tmp_path, *extra, trainer):
    config = load_config(None, LOOP_BASE + [f"run.runs_dir={tmp_path}", *extra])
    return train(config, trainer=trainer, log=lambda *a: None)


@pytest.mark.parametrize("overrides, seeds", [
    ([], (0,)), (["run.seeds=3"], (0, 1, 2)), (["run.seed=7", "run.seeds=2"], (7, 8)),
    (["run.seeds=[42, 3]"], (42, 3)),
])
def test_seed_list(overrides, seeds):
    config = load_config(None, overrides)
    assert seed_list(config) == seeds
    assert is_multi_seed(config) == bool(overrides)


@pytest.mark.parametrize("value", ["0", "-2", "[]", "[1, 1]", "[1, 2.5]", "true", "four"])
def test_bad_seeds_name_key_value_and_what_is_allowed(value):
    with pytest.raises(ConfigError, match=r"'run.seeds' must be an integer in \[1, 1024\] or a "
                                          r"list of 1 to 1024 distinct integers in "
                                          r"\[0, 4294967295\], got"):
        load_config(None, [f"run.seeds={value}"])


def test_group_point_means_metrics_and_takes_the_worst_health():
    points = [{"train/entropy": 1.0, "health/entropy_ok": 1.0, "episode/win_rate": 0.5},
              {"train/entropy": 2.0, "health/entropy_ok": 0.0}]
    assert group_point(points) == {"train/entropy": 1.5, "health/entropy_ok": 0.0,
                                   "episode/win_rate": 0.5}


def test_two_seeds_together_equal_two_one_seed_runs(tmp_path, trainer):
    group = _train(tmp_path / "group", "run.seeds=[3, 5]", trainer=trainer)
    assert group.status == "finished" and group.update == 8 and group.seeds == (3, 5)
    for index, seed in enumerate((3, 5)):
        alone = _train(tmp_path / f"alone-{seed}", f"run.seed={seed}", trainer=trainer)
        assert alone.seeds == (seed,)
        for a, b in zip(jax.tree.leaves(alone.params), jax.tree.leaves(group.params),
                        strict=True):
            np.testing.assert_allclose(b[index], a, rtol=1e-5, atol=1e-6)
        rows = read_jsonl(group.run_dir / f"seed-{seed}" / "metrics.jsonl")
        alone_rows = read_jsonl(alone.run_dir / "metrics.jsonl")
        assert [r["step"] for r in rows] == list(range(1, 9))
        np.testing.assert_allclose([r["train/total_loss"] for r in rows],
                                   [r["train/total_loss"] for r in alone_rows],
                                   rtol=1e-4, atol=1e-6)
    assert not (group.run_dir / "metrics.jsonl").exists()
    assert json.loads((group.run_dir / "run.json").read_text())["seeds"] == [3, 5]
    header, _ = ckpt.read_header(group.checkpoint)
    assert header["seeds"] == [3, 5] and header["config"]["run"]["seeds"] == [3, 5]
    # The two seeds really differ (distinct keys, not one run twice).
    first = jax.tree.leaves(group.params)[0]
    assert not np.array_equal(first[0], first[1])


def test_resumed_multi_seed_run_is_bit_identical(tmp_path, trainer):
    whole = _train(tmp_path, "run.seeds=2", trainer=trainer)
    names = [p.name for p in ckpt.list_checkpoints(whole.run_dir / "checkpoints")]
    assert names == ["update_00000006.ckpt", "update_00000008.ckpt"]
    before = read_jsonl(whole.run_dir / "seed-1" / "metrics.jsonl")
    config, point = prepare_resume(whole.run_dir / "checkpoints" / names[0])
    assert point.header["update"] == 6 and config.run.seeds == 2
    rest = train(config, resume=point, trainer=trainer, log=lambda *a: None)
    assert rest.status == "finished" and rest.update == 8 and rest.run_dir == whole.run_dir
    for a, b in zip(jax.tree.leaves(whole.params), jax.tree.leaves(rest.params), strict=True):
        assert a.shape[0] == 2
        np.testing.assert_array_equal(a, b)
    after = read_jsonl(whole.run_dir / "seed-1" / "metrics.jsonl")
    assert [r["step"] for r in after] == list(range(1, 9))
    assert [r["train/total_loss"] for r in after] == [r["train/total_loss"] for r in before]


def test_one_seed_checkpoint_does_not_resume_as_a_group(tmp_path, trainer):
    plain = _train(tmp_path, trainer=trainer)
    config, point = prepare_resume(plain.run_dir)
    assert config.run.seeds == 1 and "seeds" not in point.header
    rest = train(config, resume=point, trainer=trainer, log=lambda *a: None)
    assert rest.update == 8 and rest.seeds == (0,)
    assert jax.tree.leaves(rest.params)[0].shape == jax.tree.leaves(plain.params)[0].shape


@pytest.mark.timeout(600)
def test_real_game_group_trains_each_seed_like_its_own_run(tmp_path):
    """The real game, 2 seeds: one chunk runs (it once hung in the vmapped init) and each seed's
    init and metrics equal a one-seed run with that seed."""
    from hackmatrix.core.parallel import (
        compile_for_config,
        default_hparams,
        make_mesh,
        place_hparams,
        stack_seed_keys,
    )

    config = load_config(None, ["env.num_envs=8", "ppo.num_steps=8", "ppo.total_timesteps=128",
                                "network.hidden_sizes=[16]", "ppo.num_minibatches=2",
                                "run.updates_per_chunk=1"])
    group = compile_for_config(config, make_mesh(), 2)
    runner = group.init(stack_seed_keys([4, 9]))
    single = jax.jit(group.trainer.init)(jax.random.PRNGKey(9))
    for got, want in zip(jax.tree.leaves(runner), jax.tree.leaves(single)):
        np.testing.assert_array_equal(np.asarray(got)[1], np.asarray(want))
    runner, metrics = group.chunk(runner, np.int32(1),
                                  place_hparams(group, default_hparams(group.trainer, 2)))
    loss = np.asarray(metrics["train/total_loss"])
    assert loss.shape == (2, 1) and np.isfinite(loss).all() and loss[0, 0] != loss[1, 0]
    _, one_metrics = jax.jit(group.trainer.train_chunk)(single, np.int32(1),
                                                        dict(group.trainer.hparams))
    np.testing.assert_allclose(loss[1], np.asarray(one_metrics["train/total_loss"]), rtol=1e-5)


def test_one_seed_checkpoint_stores_the_runner_without_the_seed_axis(tmp_path, trainer):
    """The format of checkpoints written before the seed axis, so those still load."""
    plain = _train(tmp_path, trainer=trainer)
    restored = ckpt.restore(plain.checkpoint, jax.eval_shape(trainer.init, jax.random.PRNGKey(0)))
    assert np.asarray(restored.update).shape == ()


def test_two_devices_split_a_population_run_by_run(tmp_path):
    """Two members on two devices: each device trains one whole run (6 envs could not be split
    evenly across them), and every member ends as it does on one device."""
    script = Path(__file__).with_name("two_device_members.py")
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               JAX_PLATFORMS="cpu")
    out = tmp_path / "params.npz"
    done = subprocess.run([sys.executable, str(script), str(out)], cwd=script.parent, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert info["devices"] == 2
    assert info["obs_spec"] == ["data"]  # split along the member axis only
    assert info["updates"] == [2, 2]
    two = np.load(out)
    runner = train_members(jax.devices()[:1])
    one = jax.tree_util.tree_leaves_with_path(jax.device_get(runner.params))
    assert len(one) == len(two.files)
    for path, leaf in one:
        np.testing.assert_allclose(two[jax.tree_util.keystr(path)], leaf, rtol=1e-4, atol=1e-5)
    kernel = next(leaf for path, leaf in one if "kernel" in jax.tree_util.keystr(path))
    assert not np.allclose(kernel[0], kernel[1])  # two runs, not one copied
