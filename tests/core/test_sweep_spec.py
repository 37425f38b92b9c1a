"""Sweep specs: wrong ones are clear errors before anything compiles; points and scores."""

import math

import pytest

from hackmatrix.core.config import load_config
from hackmatrix.errors import ConfigError
from hackmatrix.sweep.points import grid_points, point_config, random_points
from hackmatrix.sweep.ranking import interval, member_score, point_result, rank
from hackmatrix.sweep.run import check_ranges
from hackmatrix.sweep.spec import parse_sweep


@pytest.mark.parametrize("section, message", [
    ({"method": "bayes", "params": {"ppo.ent_coef": [0.1]}}, r"'sweep.method' must be one of"),
    ({"method": "grid", "params": {}}, r"'sweep.params' must map at least one key"),
    ({"method": "grid", "params": {"ppo.entcoef": [0.1]}}, r"unknown config key"),
    ({"method": "grid", "params": {"env.num_envs": [8, 16]}}, r"changes array shapes"),
    ({"method": "grid", "params": {"ppo.ent_coef": []}}, r"non-empty list of values"),
    ({"method": "random", "params": {"ppo.ent_coef": {"low": 0.1, "high": 0.1}}},
     r"empty range"),
    ({"method": "random", "params": {"ppo.ent_coef": [0.1]}}, r"must be a range"),
    ({"method": "random", "params": {"ppo.clip_eps": {"low": -1, "high": 1, "log": True}}},
     r"only for a range with low > 0"),
    ({"method": "grid", "seeds": 0, "params": {"ppo.ent_coef": [0.1]}}, r"'sweep.seeds' must"),
    ({"method": "grid", "score": {"mode": "best"}, "params": {"ppo.ent_coef": [0.1]}},
     r"'sweep.score.mode'"),
    ({"method": "grid", "trials": 3, "params": {"ppo.ent_coef": [0.1]}}, r"unknown sweep key"),
])
def test_wrong_spec_is_a_clear_error(section, message):
    with pytest.raises(ConfigError, match=message):
        parse_sweep(section)


def test_out_of_range_value_is_refused_before_compile():
    spec = parse_sweep({"method": "random", "params": {"ppo.gamma": {"low": 0.9, "high": 1.5}}})
    with pytest.raises(ConfigError, match=r"'ppo.gamma' must be a number in \(0, 1\]"):
        check_ranges(load_config(None, []), spec)


def test_grid_is_every_combination_first_key_slowest():
    spec = parse_sweep({"method": "grid", "params": {"ppo.ent_coef": [0.1, 0.2],
                                                      "ppo.learning_rate": [1e-4, 1e-3]}})
    assert grid_points(spec) == [
        {"ppo.ent_coef": 0.1, "ppo.learning_rate": 1e-4},
        {"ppo.ent_coef": 0.1, "ppo.learning_rate": 1e-3},
        {"ppo.ent_coef": 0.2, "ppo.learning_rate": 1e-4},
        {"ppo.ent_coef": 0.2, "ppo.learning_rate": 1e-3}]


def test_random_points_stay_in_range_and_go_log_uniform_for_wide_ranges():
    spec = parse_sweep({"method": "random", "points": 200, "params": {
        "ppo.learning_rate": {"low": 1e-5, "high": 1e-1}, "ppo.gamma": {"low": 0.9, "high": 0.99}}})
    assert [d.log for d in spec.dimensions] == [True, False]
    points = random_points(spec)
    rates = [p["ppo.learning_rate"] for p in points]
    assert all(1e-5 <= r <= 1e-1 for r in rates)
    # Log-uniform: about half the draws fall below the geometric middle, 1e-3.
    assert 60 < sum(r < 1e-3 for r in rates) < 140


def test_point_values_are_explicit_so_auto_scaling_keeps_them():
    base = load_config(None, ["env.num_envs=512"])  # a batch above the reference: auto-scaled
    config = point_config(base, {"ppo.learning_rate": 1e-3})
    assert config.ppo.learning_rate == 1e-3 and config.ppo.num_minibatches != 4


def test_scores_means_and_student_t_interval():
    rows = [{"step": s, "episode/return_mean": float(s)} for s in range(1, 6)] + [{"step": 6}]
    assert member_score(rows, "episode/return_mean", 3) == pytest.approx(4.5)
    mean, half = interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.303 / math.sqrt(3))
    assert math.isnan(interval([5.0])[1])


def test_rank_puts_the_best_first_and_unscored_points_last():
    results = [point_result(0, {}, [1.0]), point_result(1, {}, [math.nan]),
               point_result(2, {}, [3.0])]
    assert [r.index for r in rank(results, "max")] == [2, 0, 1]
    assert [r.index for r in rank(results, "min")] == [0, 2, 1]
