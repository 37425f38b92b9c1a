"""The eval history of evaluation during training: best only on improvement, stopping rules."""

import pytest

from hackmatrix.core import load_config
from hackmatrix.core.eval_tracker import EvalTracker
from hackmatrix.core.evaluation import due
from hackmatrix.errors import ConfigError


def test_best_changes_only_on_strict_improvement():
    tracker = EvalTracker("final_stage_mean")
    assert [tracker.record(u, v) for u, v in [(2, 1.0), (4, 1.5), (6, 1.5), (8, 1.2)]] == [
        True, True, False, False]
    assert (tracker.best, tracker.best_update, tracker.since_best) == (1.5, 4, 2)
    lower = EvalTracker("length_mean", mode="min")
    assert [lower.record(u, v) for u, v in [(1, 50.0), (2, 60.0), (3, 40.0)]] == [
        True, False, True]
    assert not EvalTracker("return_mean").record(1, float("nan"))


def test_stop_by_target_and_by_patience():
    tracker = EvalTracker("win_rate")
    tracker.record(2, 0.0)
    assert tracker.stop_reason(target=None, patience=0) is None
    assert "reached eval.target = 0" in tracker.stop_reason(target=0.0, patience=0)
    tracker.record(4, 0.0)
    assert tracker.stop_reason(target=None, patience=2) is None
    tracker.record(6, 0.0)
    reason = tracker.stop_reason(target=None, patience=2)
    assert "did not improve in 2 evals" in reason and "best 0 at update 2" in reason


def test_the_state_round_trips_through_a_header():
    tracker = EvalTracker("return_mean")
    for update, value in [(2, -1.0), (4, -0.5), (6, -0.7)]:
        tracker.record(update, value)
    again = EvalTracker.from_dict(tracker.to_dict(), "return_mean", "max")
    assert again == tracker
    assert EvalTracker.from_dict({}, "return_mean", "max") == EvalTracker("return_mean")


def test_evals_fall_at_the_chunk_end_that_crosses_a_multiple():
    assert [after for after in range(2, 17, 2) if due(3, after - 2, after)] == [4, 6, 10, 12, 16]
    assert not due(0, 0, 100)


@pytest.mark.parametrize("overrides, message", [
    (["eval.metric=score"], "'eval.metric' must be one of"),
    (["eval.mode=up"], "'eval.mode' must be one of"),
    (["eval.target=high"], "'eval.target' must be a number"),
    (["eval.patience=-1"], "'eval.patience' must be an integer >= 0"),
    (["eval.patience=3"], "eval.patience need evaluation during training"),
])
def test_bad_eval_settings_name_the_key_and_the_fix(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_eval_is_off_by_default_and_the_target_is_optional():
    config = load_config(None, ["eval.every_updates=4", "eval.target=0.5"])
    assert load_config(None).evaluation.every_updates == 0
    assert config.evaluation.target == 0.5 and config.evaluation.patience == 0
