"""Sweeps: each point of a batch trains as a one-point run with its values (probe env, real game),
and the sweep writes its ranked table, ranking.json and a best.yaml that loads as a config."""

import functools
import json

import jax
import numpy as np
import pytest
from conftest import LOOP_BASE, ProbeEnv, probe_train_reduce

from hackmatrix.core import load_config, make_train
from hackmatrix.core.loop import train
from hackmatrix.core.parallel import compile_for_config, make_mesh, place_hparams, stack_seed_keys
from hackmatrix.core.population import seed_population, stacked_hparams
from hackmatrix.sweep.points import point_config
from hackmatrix.sweep.run import batch_population, run_sweep
from hackmatrix.sweep.spec import parse_sweep

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


@pytest.mark.timeout(600)
def test_real_game_points_equal_one_point_runs():
    """The real game: two points in one program, each equal to its one-point program."""
    base = load_config(None, ["env.num_envs=8", "ppo.num_steps=8", "ppo.total_timesteps=128",
                              "network.hidden_sizes=[16]", "ppo.num_minibatches=2",
                              "run.updates_per_chunk=1"])
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
