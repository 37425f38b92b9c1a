"""hackmatrix eval: action choice, the episode summary, the CLI table/JSON and --log-to-sinks."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from analysis_kit import BATCH, EPISODES, MAX_STEPS, SEED, UPDATES

from hackmatrix.analysis.eval_sinks import eval_metrics
from hackmatrix.analysis.evaluate import (
    Z95,
    EpisodeStats,
    episode_key,
    episode_keys,
    evaluate,
    summarize,
)
from hackmatrix.analysis.policy import (
    GREEDY,
    RANDOM,
    SAMPLE,
    action_probabilities,
    choose_action,
    load_policy,
)
from hackmatrix.cli import main
from hackmatrix.env.constants import NUM_ACTIONS, PROGRAM_NAMES, REWARD_KEYS
from hackmatrix.env.step_info import action_shares
from hackmatrix.sinks.jsonl import read_jsonl

VALID = (1, 5, 9)


def _logits_and_mask():
    logits = np.zeros(NUM_ACTIONS, np.float32)
    logits[0], logits[5], logits[9] = 10.0, 2.0, 1.0  # action 0 is the best but invalid
    mask = np.zeros(NUM_ACTIONS, bool)
    mask[list(VALID)] = True
    return jnp.asarray(logits), jnp.asarray(mask)


def test_greedy_takes_the_most_probable_valid_action():
    logits, mask = _logits_and_mask()
    assert int(choose_action(jax.random.PRNGKey(0), logits, mask, GREEDY)) == 5


def test_probabilities_are_the_softmax_over_valid_actions():
    logits, mask = _logits_and_mask()
    probs = np.asarray(action_probabilities(logits, mask))
    e = np.exp([0.0, 2.0, 1.0])
    expected = np.zeros(NUM_ACTIONS)
    expected[list(VALID)] = e / e.sum()
    np.testing.assert_allclose(probs, expected, rtol=1e-6, atol=1e-7)


def test_random_and_sampled_actions_are_valid_and_random_is_uniform():
    logits, mask = _logits_and_mask()
    keys = jax.random.split(jax.random.PRNGKey(1), 3000)
    pick = jax.vmap(choose_action, in_axes=(0, None, None, None))
    uniform = np.bincount(np.asarray(pick(keys, logits, mask, RANDOM)), minlength=NUM_ACTIONS)
    sampled = np.bincount(np.asarray(pick(keys, logits, mask, SAMPLE)), minlength=NUM_ACTIONS)
    assert uniform.sum() == sampled.sum() == 3000
    assert set(np.flatnonzero(uniform)) == set(np.flatnonzero(sampled)) == set(VALID)
    np.testing.assert_allclose(uniform[list(VALID)] / 3000, [1 / 3] * 3, atol=0.04)
    # The policy prefers action 5 (p = 0.665): sampling follows it, the baseline does not.
    assert sampled[5] / 3000 == pytest.approx(0.665, abs=0.04)


def test_episode_keys_do_not_depend_on_the_episode_count():
    many = np.asarray(episode_keys(3, 5))
    assert (many[:2] == np.asarray(episode_keys(3, 2))).all()
    assert (many[4] == np.asarray(episode_key(3, 4))).all()
    assert len({tuple(k) for k in many}) == 5


def _hand_stats():
    counts = np.zeros((2, NUM_ACTIONS), np.int32)
    counts[0, 0], counts[0, 4] = 1, 1  # UP, SIPHON
    counts[1, 3], counts[1, 5 + PROGRAM_NAMES.index("WAIT")] = 2, 1
    counts[1, 5 + PROGRAM_NAMES.index("CRASH")] = 1
    totals = np.zeros((2, len(REWARD_KEYS)), np.float32)
    totals[:, REWARD_KEYS.index("step_penalty")] = [-0.02, -0.04]
    totals[:, REWARD_KEYS.index("kills")] = [1.02, 3.04]
    return EpisodeStats(
        episode_return=np.array([1.0, 3.0], np.float32), length=np.array([2, 4], np.int32),
        final_stage=np.array([1, 3], np.int32), won=np.array([False, True]),
        truncated=np.array([False, False]), action_counts=counts, reward_totals=totals)


def test_summary_of_hand_made_episodes():
    s = summarize(_hand_stats())
    assert s["episodes"] == 2 and s["steps"] == 6
    assert s["win_rate"] == 0.5 and s["truncated_rate"] == 0.0
    assert s["final_stage_mean"] == 2.0 and s["return_mean"] == 2.0 and s["length_mean"] == 3.0
    # std of {1, 3} is sqrt(2), the standard error sqrt(2) / sqrt(2) = 1.
    assert s["final_stage_ci95"] == pytest.approx(Z95) and s["return_ci95"] == pytest.approx(Z95)
    assert s["final_stages"] == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 0, "6": 0, "7": 0, "8": 0}
    assert s["actions"] == pytest.approx({"move_frac": 0.5, "siphon_frac": 1 / 6,
                                          "program_frac": 1 / 3})
    assert s["programs"]["WAIT"] == pytest.approx({"share": 1 / 6, "per_episode": 0.5})
    assert s["programs"]["CRASH"] == pytest.approx({"share": 1 / 6, "per_episode": 0.5})
    assert s["programs"]["PUSH"] == {"share": 0.0, "per_episode": 0.0}
    assert s["rewards"]["step_penalty"] == pytest.approx(-0.03)
    assert s["rewards"]["kills"] == pytest.approx(2.03)
    assert s["per_episode"] == {"return": [1.0, 3.0], "length": [2, 4], "final_stage": [1, 3],
                                "won": [False, True], "truncated": [False, False]}


def test_summary_shares_are_the_training_metrics_shares():
    """Eval and the training metrics `actions/*` share one action_shares: same counts, same
    fractions (the training side in float32 on device)."""
    counts = _hand_stats().action_counts.sum(axis=0)
    training = action_shares(jnp.asarray(counts, jnp.float32), jnp.float32(counts.sum()))
    s = summarize(_hand_stats())
    for key, share in s["actions"].items():
        assert share == pytest.approx(float(training[key]), rel=1e-6)
    for name, program in s["programs"].items():
        assert program["share"] == pytest.approx(float(training[f"program/{name}"]), rel=1e-6)


def test_one_episode_has_no_confidence_interval_and_logs_without_it():
    one = jax.tree.map(lambda a: a[:1], _hand_stats())
    s = summarize(one)
    assert s["final_stage_ci95"] is None and s["return_ci95"] is None
    point = eval_metrics({"agent": s, "random": s})
    assert "eval/final_stage_ci95" not in point and "eval/random/return_ci95" not in point
    # 5 scalars + 3 action shares + 23 program shares + 23 program uses + 15 components, for the
    # agent and the baseline.
    assert len(point) == 2 * (5 + 3 + 23 + 23 + 15)
    assert point["eval/program_uses/WAIT"] == 0.0
    assert point["eval/win_rate"] == 0.0 and point["eval/random/reward/kills"] == pytest.approx(
        1.02)
    assert point["eval/actions/program/WAIT"] == 0.0


def test_eval_json_is_consistent(eval_result):
    result, _, _ = eval_result
    assert (result["episodes"], result["seed"], result["max_steps"]) == (EPISODES, SEED,
                                                                         MAX_STEPS)
    assert result["update"] == UPDATES and result["env_steps"] == UPDATES * BATCH
    assert result["agent"]["policy"] == "greedy" and result["random"]["policy"] == "random"
    for side in ("agent", "random"):
        s = result[side]
        per = s["per_episode"]
        assert len(per["length"]) == EPISODES and max(per["length"]) <= MAX_STEPS
        assert s["steps"] == sum(per["length"])
        assert s["length_mean"] == pytest.approx(np.mean(per["length"]))
        assert s["final_stage_mean"] == pytest.approx(np.mean(per["final_stage"]))
        assert s["win_rate"] == np.mean(per["won"])
        assert s["truncated_rate"] == np.mean(per["truncated"])
        # A truncated episode ran exactly max_steps; a finished one is over before.
        for length, cut in zip(per["length"], per["truncated"], strict=True):
            assert (length == MAX_STEPS) == cut
        assert sum(s["actions"].values()) == pytest.approx(1.0)
        assert sum(p["share"] for p in s["programs"].values()) == pytest.approx(
            s["actions"]["program_frac"])
        # The 15 components add up to the return, episode by episode and so on average.
        assert sum(s["rewards"].values()) == pytest.approx(s["return_mean"], abs=1e-4)


def test_eval_is_reproducible_from_the_seed(trained_run, eval_result):
    result, _, _ = eval_result
    again = evaluate(load_policy(trained_run), EPISODES, SEED, GREEDY, MAX_STEPS)
    assert again["agent"]["per_episode"] == result["agent"]["per_episode"]
    assert again["random"]["per_episode"] == result["random"]["per_episode"]


def test_eval_table_shows_both_policies(eval_result):
    result, text, path = eval_result
    agent, rand = result["agent"], result["random"]
    lines = text.splitlines()
    assert f"{EPISODES} episodes, seed {SEED}, greedy policy vs random valid actions" in lines[1]
    row = next(line for line in lines if line.startswith("length "))
    assert row.split()[1:] == [f"{agent['length_mean']:.1f}", f"{rand['length_mean']:.1f}"]
    row = next(line for line in lines if line.startswith("win rate"))
    assert row.split()[2:] == [f"{agent['win_rate']:.3f}", f"{rand['win_rate']:.3f}"]
    row = next(line for line in lines if line.startswith("final stage (95% CI)"))
    assert f"{agent['final_stage_mean']:.2f}" in row
    for key in REWARD_KEYS:
        row = next(line for line in lines if line.strip().startswith(key + " "))
        assert row.split()[1:] == [f"{agent['rewards'][key]:+.3f}", f"{rand['rewards'][key]:+.3f}"]
    assert lines[-1] == f"logged eval/* at update {UPDATES} to: jsonl, tensorboard"
    assert f"wrote {path}" in text


def test_log_to_sinks_adds_one_eval_point_and_keeps_the_training(trained_run, eval_result):
    result, _, _ = eval_result
    rows = read_jsonl(trained_run / "metrics.jsonl")
    train = [r for r in rows if "train/mean_reward" in r]
    evals = [r for r in rows if "eval/win_rate" in r]
    assert [r["step"] for r in train] == list(range(1, UPDATES + 1))
    assert len(evals) == 1 and evals[0]["step"] == UPDATES
    point = evals[0]
    assert point["perf/env_steps"] == UPDATES * BATCH
    assert point["eval/length_mean"] == result["agent"]["length_mean"]
    assert point["eval/random/return_mean"] == result["random"]["return_mean"]
    assert point["eval/reward/step_penalty"] == result["agent"]["rewards"]["step_penalty"]
    assert not any(k.startswith(("train/", "episode/")) for k in point)
    events = b"".join(p.read_bytes() for p in (trained_run / "tensorboard").glob("events.*"))
    assert b"eval/random/win_rate" in events and b"eval/final_stage_mean" in events


def test_eval_argument_errors(trained_run, capsys):
    assert main(["eval", str(trained_run), "--episodes", "0"]) == 2
    assert "--episodes must be at least 1" in capsys.readouterr().err
    assert main(["eval", str(trained_run / "nothing")]) == 2
    assert "neither a checkpoint file nor a run directory" in capsys.readouterr().err


def test_confidence_interval_matches_the_episodes(eval_result):
    s = eval_result[0]["agent"]
    stages = np.asarray(s["per_episode"]["final_stage"], float)
    half = Z95 * stages.std(ddof=1) / math.sqrt(len(stages))
    assert s["final_stage_ci95"] == pytest.approx(half)
