"""One step (rules §4.1): reset, turn structure, stage completion, invalid actions, tracing."""

import jax
import jax.numpy as jnp
import numpy as np
from batched_env import PARAMS, RESET, STEP

from hackmatrix.env import constants as C
from hackmatrix.env.constants import LEFT, RIGHT, UP
from hackmatrix.env.observation import observe
from hackmatrix.env.scenario import scenario_from_state, state_from_scenario

SIPHON = C.SIPHON_ACTION
WARP, WAIT, UNDO, STEP_PROGRAM, SHOW, HACK = (
    C.PROGRAM_ACTION_OFFSET + p for p in (C.WARP, C.WAIT, C.UNDO, C.STEP, C.SHOW, C.HACK))


def run(scenario, action, seed=0):
    """Step a scenario (dict) or a state once; return (before, after, reward, done)."""
    before = state_from_scenario(scenario) if isinstance(scenario, dict) else scenario
    after, obs, reward, done, _ = STEP(jax.random.key(seed), before, jnp.int32(action), PARAMS)
    assert_obs_matches(obs, after)
    assert bool(done) == bool(after.done)
    return before, after, float(reward), bool(done)


def assert_obs_matches(obs, state):
    """jit may turn x / 50 into x * (1 / 50): equal up to float32 rounding."""
    np.testing.assert_allclose(np.asarray(obs), np.asarray(observe(state)), rtol=0, atol=1e-6)


def leaves_equal(a, b):
    return all(np.array_equal(np.asarray(x), np.asarray(y))
               for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))


def test_reset_is_a_fresh_stage_one_game():
    for seed in range(4):
        obs, state = RESET(jax.random.key(seed), PARAMS)
        assert_obs_matches(obs, state)
        s = scenario_from_state(state)
        assert s["stage"] == 1 and s["turn"] == 0 and not s["done"] and not s["won"]
        assert s["player"]["hp"] == 3 and s["player"]["attack"] == 1 and s["player"]["score"] == 0
        bonus = (s["player"]["credits"], s["player"]["energy"], s["player"]["data_siphons"])
        assert bonus in ((10, 0, 0), (0, 11, 0), (0, 0, 1))
        assert [s["player"]["row"], s["player"]["col"]] in [list(c) for c in C.CORNERS]
        assert s["schedule"] == {"interval": 12, "next": 12} and s["undo"] is None
        assert len(s["transmissions"]) == 1 and s["enemies"] == []
        assert 5 <= len(s["blocks"]) <= 11 and len(s["pickups"]) == 2


def test_reset_is_deterministic_per_key():
    a = RESET(jax.random.key(7), PARAMS)
    b = RESET(jax.random.key(7), PARAMS)
    c = RESET(jax.random.key(8), PARAMS)
    assert leaves_equal(a, b)
    assert not leaves_equal(a, c)


def test_move_ends_the_turn_and_pushes_a_snapshot():
    _, after, _, done = run({"transmissions": [{"row": 3, "col": 3, "enemy_type": "glitch"}]}, UP)
    assert (int(after.player.row), int(after.player.col)) == (1, 0)
    assert int(after.turn) == 1 and bool(after.undo.valid) and not done
    assert int(after.enemies.count) == 1 and int(after.enemies.type[0]) == C.GLITCH
    assert int(after.transmissions.count) == 0
    assert int(after.undo.player.row) == 1  # snapshot = state at the end of the enemy turn


def test_programs_do_not_end_the_turn_except_wait():
    scenario = {"owned": ["SHOW", "WAIT"], "player": {"credits": 2, "energy": 1},
                "enemies": [{"type": "daemon", "row": 1, "col": 0}]}
    _, after, _, _ = run(scenario, SHOW)
    assert int(after.turn) == 0 and int(after.player.hp) == 3 and bool(after.show)
    assert not bool(after.undo.valid)
    _, after, _, _ = run(after, WAIT)
    assert int(after.turn) == 1 and int(after.player.hp) == 2 and int(after.player.energy) == 0


def test_step_program_skips_the_next_enemy_turn():
    scenario = {"owned": ["STEP"], "player": {"energy": 3},
                "enemies": [{"type": "daemon", "row": 1, "col": 1}]}
    _, after, _, _ = run(scenario, STEP_PROGRAM)
    assert bool(after.step_pending)
    _, after, _, _ = run(after, RIGHT)  # moves next to the daemon; the turn is skipped
    assert not bool(after.step_pending) and int(after.turn) == 0 and int(after.player.hp) == 3
    assert not bool(after.undo.valid)
    _, after, _, _ = run(after, LEFT)  # this turn runs: the daemon (not adjacent) moves
    assert int(after.turn) == 1 and int(after.player.hp) == 3
    assert (int(after.enemies.row[0]), int(after.enemies.col[0])) == (0, 1)


def test_siphon_ends_the_turn_and_emits_queued_transmissions():
    scenario = {"player": {"data_siphons": 1}, "flags": {"calm": True},
                "blocks": [{"row": 1, "col": 0, "kind": "data", "points": 3}]}
    _, after, _, _ = run(scenario, SIPHON)
    assert int(after.turn) == 1 and int(after.player.score) == 3
    assert int(after.pending_spawns) == 0 and int(after.transmissions.count) == 3
    assert bool(np.all(np.asarray(after.transmissions.from_siphon[:3])))
    assert int(after.sched_interval) == 11 and int(after.sched_next) == 17


def test_stage_completion_generates_the_next_stage_without_enemy_turn():
    scenario = {"stage": 2, "schedule": {"interval": 8, "next": 9}, "turn": 5,
                "player": {"row": 5, "col": 4, "hp": 3, "credits": 4},
                "flags": {"show": True, "calm": True, "step_pending": True, "atk_uses": 2},
                "enemies": [{"type": "virus", "row": 4, "col": 4}],
                "undo": {"player": {"row": 5, "col": 3}}}
    _, after, _, done = run(scenario, RIGHT)
    s = scenario_from_state(after)
    assert s["stage"] == 3 and s["turn"] == 0 and not done
    assert s["schedule"] == {"interval": 10, "next": 10}
    assert s["flags"] == {"show": False, "calm": False, "step_pending": False, "atk_uses": 0}
    assert s["undo"] is None and s["player"]["hp"] == 3 and s["player"]["credits"] == 4
    assert [s["player"]["row"], s["player"]["col"]] == [5, 5]
    assert s["enemies"][0]["row"] == 4 and s["enemies"][0]["col"] == 4  # did not act
    assert s["exit"] != [5, 5] and s["exit"] in [list(c) for c in C.CORNERS]
    assert len(s["transmissions"]) == 3  # `stage` == 3 new transmissions


def test_warp_onto_the_exit_completes_the_stage():
    scenario = {"owned": ["WARP"], "player": {"credits": 2, "energy": 2, "hp": 1},
                "enemies": [{"type": "glitch", "row": 5, "col": 5}]}
    _, after, _, done = run(scenario, WARP)
    assert int(after.stage) == 2 and int(after.player.hp) == 2 and not done
    assert int(after.sched_interval) == 11 and int(after.turn) == 0


def test_victory_keeps_stage_8_and_the_player_on_the_exit():
    _, after, _, done = run({"stage": 8, "player": {"row": 4, "col": 5, "hp": 2}}, UP)
    assert done and bool(after.won) and int(after.stage) == 8 and int(after.player.hp) == 3
    assert (int(after.player.row), int(after.player.col)) == (5, 5)
    assert int(after.grid.content[5, 5]) == C.EXIT


def test_death_ends_the_episode():
    _, after, _, done = run({"player": {"hp": 1}, "enemies": [{"type": "daemon", "row": 1,
                                                               "col": 1}]}, RIGHT)
    assert done and int(after.player.hp) == 0 and not bool(after.won)


def test_invalid_action_leaves_the_state_unchanged_but_done():
    before = state_from_scenario({"player": {"col": 5}, "owned": ["WAIT"],
                                  "enemies": [{"type": "virus", "row": 3, "col": 3}]})
    for action in (RIGHT, SIPHON, WAIT, UNDO, HACK, -1, C.NUM_ACTIONS, 1000):
        after, obs, reward, done, breakdown = STEP(jax.random.key(0), before, jnp.int32(action),
                                                   PARAMS)
        assert bool(done) and float(reward) == 0.0 and np.isfinite(np.asarray(obs)).all()
        assert all(float(v) == 0.0 for v in breakdown.values())
        assert leaves_equal(after, before.replace(done=jnp.bool_(True)))


def test_stepping_a_done_state_is_a_no_op():
    _, dead, _, _ = run({"player": {"hp": 1}, "enemies": [{"type": "daemon", "row": 1,
                                                           "col": 1}]}, RIGHT)
    _, after, reward, done = run(dead, UP)
    assert done and reward == 0.0 and leaves_equal(after, dead)


def test_undo_restores_the_snapshot_but_keeps_stage_and_scheduling():
    scenario = {"stage": 2, "owned": ["UNDO"], "player": {"row": 2, "col": 2, "credits": 3},
                "schedule": {"interval": 9, "next": 14}, "pending_spawns": 2,
                "undo": {"player": {"row": 1, "col": 1, "credits": 5}, "owned": ["UNDO"],
                         "turn": 3}}
    _, after, _, _ = run(scenario, UNDO)
    s = scenario_from_state(after)
    assert s["player"]["row"] == 1 and s["player"]["credits"] == 5 and s["turn"] == 3
    assert s["stage"] == 2 and s["schedule"] == {"interval": 9, "next": 14}
    assert s["pending_spawns"] == 2 and s["undo"] is None


def test_shared_step_is_not_retraced():
    state = state_from_scenario({"enemies": [{"type": "virus", "row": 3, "col": 3}]})
    STEP(jax.random.key(0), state, jnp.int32(UP), PARAMS)
    size = STEP._cache_size()
    for i in range(6):
        state, *_ = STEP(jax.random.key(i), state, jnp.int32(i % C.NUM_DIRECTIONS), PARAMS)
    STEP(jax.random.key(9), state_from_scenario({"stage": 5}), jnp.int32(RIGHT), PARAMS)
    assert STEP._cache_size() == size
