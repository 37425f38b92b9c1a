"""Sweeps: each point of a batch trains as a one-point run with its values (probe env, real game),
the sweep writes its ranked table, ranking.json and a best.yaml that loads as a config, Optuna
asks and tells in batches, and `hackmatrix sweep` runs it all from the command line."""

import functools
import json

import jax
import numpy as np
import pytest
from conftest import LOOP_BASE, ProbeEnv, probe_train_reduce

from hackmatrix.cli import main
from hackmatrix.core import load_config, make_train
from hackmatrix.core.loop import train
from hackmatrix.core.parallel import compile_for_config, make_mesh, place_hparams, stack_seed_keys
from hackmatrix.core.population import seed_population, stacked_hparams
from hackmatrix.sweep.optuna_search import run_optuna
from hackmatrix.sweep.points import point_config
from hackmatrix.sweep.run import batch_population, run_sweep
from hackmatrix.sweep.spec import parse_sweep

# The real game's smallest program here: two points of it compile once for the module.
REAL = ["env.num_envs=8", "ppo.num_steps=8", "ppo.total_timesteps=128",
        "network.hidden_sizes=[16]", "ppo.num_minibatches=2", "run.updates_per_chunk=1"]
SPEC = {"method": "grid", "seeds": 2, "score": {"metric": "train/mean_reward", "last": 2},
        "params": {"ppo.learning_rate": [3e-3, 3e-4], "ppo.ent_coef": [0.0, 0.05]}}


@pytest.fixture(scope="module")
def trainer():
    """One probe trainer for LOOP_BASE (the swept values are inputs, not part of it)."""
    return make_train(load_config(None, LOOP_BASE), ProbeEnv(), None, probe_train_reduce)


def test_each_point_trains_as_its_own_run_and_the_best_is_written(tmp_path, trainer):
    base = load_config(None, LOOP_BASE + [f"run.runs_dir={tmp_path}"])
    spec = parse_sweep(SPEC)
    result = run_sweep(base, spec, train_fn=functools.partial(train, trainer=trainer),
                       log=lambda *a: None)
    assert result.status == "finished" and len(result.ranked) == 4
    batch = result.sweep_dir / "batch-001"
    final = json.loads((result.sweep_dir / "ranking.json").read_text())["points"]
    assert [p["rank"] for p in final] == [1, 2, 3, 4]
    means = [p["mean"] for p in final]
    assert means == sorted(means, reverse=True)
    # Point 3 (lr 3e-4, ent 0.05), seed 1, alone: the same rows as its member of the batch.
    alone = train(point_config(load_config(None, LOOP_BASE + [
        f"run.runs_dir={tmp_path / 'alone'}", "run.seed=1"]),
        {"ppo.learning_rate": 3e-4, "ppo.ent_coef": 0.05}), trainer=trainer,
        log=lambda *a: None)
    alone_rows = [json.loads(line) for line in (alone.run_dir / "metrics.jsonl").open()]
    rows = [json.loads(line) for line in (batch / "p003-seed-1" / "metrics.jsonl").open()]
    for key in ("train/total_loss", "train/mean_reward", "train/learning_rate"):
        np.testing.assert_allclose([r[key] for r in rows], [r[key] for r in alone_rows],
                                   rtol=1e-4, atol=1e-6, err_msg=key)
    best = load_config(result.sweep_dir / "best.yaml", [])
    winner = final[0]["values"]
    assert best.ppo.learning_rate == winner["ppo.learning_rate"]
    assert best.ppo.ent_coef == winner["ppo.ent_coef"]
    assert "| rank | point |" in (result.sweep_dir / "summary.md").read_text()


def test_a_seed_group_is_the_population_of_its_seeds():
    config = load_config(None, ["run.seeds=[3, 5]", "ppo.ent_coef=0.02"])
    population = seed_population(config)
    assert population.seeds == (3, 5) and population.grouped
    np.testing.assert_allclose(stacked_hparams(population)["ent_coef"], [0.02, 0.02])


# Two compiles of the real game: over 600 s on the shared 2-core machine under load.
@pytest.mark.timeout(1200)
def test_real_game_points_equal_one_point_runs():
    """The real game: two points in one program, each equal to its one-point program."""
    base = load_config(None, REAL)
    points = [{"ppo.ent_coef": 0.0, "ppo.clip_eps": 0.1}, {"ppo.ent_coef": 0.1,
                                                          "ppo.clip_eps": 0.3}]
    configs = {i: point_config(base, p) for i, p in enumerate(points)}
    population = batch_population(configs, [7], "s", "s")
    group = compile_for_config(base, make_mesh(), 2)
    runner = group.init(stack_seed_keys(population.seeds))
    _, metrics = group.chunk(runner, np.int32(1),
                             place_hparams(group, stacked_hparams(population)))
    one = compile_for_config(base, make_mesh(), 1)
    for index, config in configs.items():
        alone = batch_population({index: config}, [7], "s", "s")
        _, single = one.chunk(one.init(stack_seed_keys([7])), np.int32(1),
                              place_hparams(one, stacked_hparams(alone)))
        for key in ("train/total_loss", "train/entropy", "train/clip_frac"):
            np.testing.assert_allclose(np.asarray(metrics[key])[index],
                                       np.asarray(single[key])[0], rtol=1e-5, atol=1e-6,
                                       err_msg=key)
    assert jax.tree.leaves(metrics)[0].shape[0] == 2


def test_optuna_asks_and_tells_in_batches_within_the_ranges(tmp_path, trainer):
    base = load_config(None, LOOP_BASE + [f"run.runs_dir={tmp_path}"])
    spec = parse_sweep({"method": "optuna", "points": 3, "batch": 2, "seed": 4,
                        "score": {"metric": "train/mean_reward", "last": 2},
                        "params": {"ppo.learning_rate": {"low": 1e-4, "high": 1e-2, "log": True},
                                   "ppo.ent_coef": {"low": 0.0, "high": 0.1}}})
    result = run_sweep(base, spec, train_fn=functools.partial(train, trainer=trainer),
                       log=lambda *a: None, ask_tell=run_optuna)
    assert result.status == "finished"
    # 3 trials asked 2 at a time: a batch of 2 points, then one of the last point.
    assert sorted(p.name for p in result.sweep_dir.glob("batch-*")) == ["batch-001", "batch-002"]
    assert (result.sweep_dir / "batch-002" / "p002-seed-0" / "metrics.jsonl").is_file()
    points = json.loads((result.sweep_dir / "sweep.json").read_text())["points"]
    assert len(points) == 3
    for values in points:
        assert 1e-4 <= values["ppo.learning_rate"] <= 1e-2
        assert 0.0 <= values["ppo.ent_coef"] <= 0.1
    assert sorted(p.index for p in result.ranked) == [0, 1, 2]
    assert all(np.isfinite(p.mean) for p in result.ranked)


@pytest.mark.parametrize("text, message", [
    ("ppo:\n  ent_coef: 0.1\n", "has no top-level 'sweep:' section"),
    ("sweep:\n  method: grid\n  params:\n    env.num_envs: [8, 16]\n", "changes array shapes"),
])
def test_the_sweep_command_refuses_a_bad_sweep_before_compiling(text, message, tmp_path,
                                                                monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    assert main(["sweep", "--sweep", str(path)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


@pytest.mark.timeout(600)
def test_the_sweep_command_trains_every_point_and_ranks_them(tmp_path, monkeypatch, capsys):
    """`hackmatrix sweep` on the real game (the program of the test above: two runs)."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "sweep.yaml"
    path.write_text("sweep:\n  method: grid\n  score: {metric: train/mean_reward, last: 2}\n"
                    "  params:\n    ppo.ent_coef: [0.0, 0.1]\n")
    assert main(["sweep", "--sweep", str(path), *REAL, "sinks=[jsonl]"]) == 0
    sweep_dir = tmp_path / "runs" / "ppo-sweep-001"
    ranking = json.loads((sweep_dir / "ranking.json").read_text())["points"]
    assert sorted(p["values"]["ppo.ent_coef"] for p in ranking) == [0.0, 0.1]
    for label in ("p000-seed-0", "p001-seed-0"):
        rows = [json.loads(line) for line in
                (sweep_dir / "batch-001" / label / "metrics.jsonl").open()]
        assert [r["step"] for r in rows] == [1, 2]
    assert f"sweep directory: runs/{sweep_dir.name}" in capsys.readouterr().out
    assert "| rank | point |" in (sweep_dir / "summary.md").read_text()
    assert load_config(sweep_dir / "best.yaml", []).env.num_envs == 8
