"""The 15 reward components of rules §8, each firing and not firing, through `step`.

Every case lists the components it expects to be non-zero (hand-computed); every other component
must be exactly 0, all 15 keys must be present and the reward must equal their float32 sum.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from batched_env import PARAMS, STEP

from hackmatrix.env import constants as C
from hackmatrix.env.constants import DOWN, REWARD_KEYS, REWARD_SUM_ORDER, RIGHT, STAGE_REWARDS, UP
from hackmatrix.env.rewards import StepEvents, calculate_reward
from hackmatrix.env.scenario import state_from_scenario

REWARD = jax.jit(calculate_reward)
SIPHON = C.SIPHON_ACTION
CRASH, WARP, WAIT, UNDO, SIPH_PLUS, EXCH, RESET, SCORE, HACK = (
    C.PROGRAM_ACTION_OFFSET + p
    for p in (C.CRASH, C.WARP, C.WAIT, C.UNDO, C.SIPH_PLUS, C.EXCH, C.RESET, C.SCORE, C.HACK))


def run(scenario, action, seed=0):
    """Step a scenario once; check keys and the sum; return (after, reward, done, breakdown)."""
    state = state_from_scenario(scenario)
    after, obs, reward, done, breakdown = STEP(jax.random.key(seed), state, jnp.int32(action), PARAMS)
    assert set(breakdown) == set(REWARD_KEYS)
    assert all(v.dtype == jnp.float32 and v.shape == () for v in breakdown.values())
    assert reward.dtype == jnp.float32 and obs.shape == (1545,)
    total = np.float32(0.0)
    for key in REWARD_SUM_ORDER:
        total = np.float32(total + np.float32(breakdown[key]))
    assert float(reward) == float(total)
    return after, float(reward), bool(done), {k: float(v) for k, v in breakdown.items()}


def check(breakdown, **expected):
    """Components named in `expected` equal their values; every other one is exactly 0."""
    for key in REWARD_KEYS:
        assert breakdown[key] == pytest.approx(expected.get(key, 0.0), abs=1e-6), key


def daemon(row, col, **kw):
    return {"type": "daemon", "row": row, "col": col, **kw}


# Each case: (id, scenario, action, expected non-zero components).
CASES = [
    ("move_closer", {}, UP, {"step_penalty": -0.01, "distance_shaping": 0.05}),
    ("move_away", {"player": {"row": 1}}, DOWN, {"step_penalty": -0.01}),
    ("move_sideways_around_wall",
     {"player": {"row": 0, "col": 0}, "blocks": [{"row": 1, "col": 1, "kind": "data", "points": 1}]},
     RIGHT, {"step_penalty": -0.01, "distance_shaping": 0.05}),
    ("score_program", {"stage": 3, "owned": ["SCORE"], "player": {"energy": 5}}, SCORE,
     {"step_penalty": -0.01, "score_gain": 2.5, "resource_gain": -0.25}),
    ("siphon_data_block", {"player": {"data_siphons": 1},
                           "blocks": [{"row": 1, "col": 0, "kind": "data", "points": 4}]},
     SIPHON, {"step_penalty": -0.01, "score_gain": 2.0}),
    ("undo_lowers_score",
     {"owned": ["UNDO"], "player": {"credits": 1, "score": 5},
      "undo": {"owned": ["UNDO"], "player": {"credits": 1, "score": 3}}},
     UNDO, {"step_penalty": -0.01, "score_gain": -1.0}),
    ("kill_virus", {"enemies": [{"type": "virus", "row": 3, "col": 0, "hp": 1}]}, UP,
     {"step_penalty": -0.01, "kills": 0.3}),
    ("kill_scheduled_virus",
     {"enemies": [{"type": "virus", "row": 3, "col": 0, "hp": 1, "from_scheduled": True}]}, UP,
     {"step_penalty": -0.01}),
    ("hit_without_kill", {"enemies": [{"type": "virus", "row": 3, "col": 0}]}, UP,
     {"step_penalty": -0.01}),
    ("kill_transmission",
     {"transmissions": [{"row": 0, "col": 4, "timer": 2, "enemy_type": "glitch"}]}, RIGHT,
     {"step_penalty": -0.01, "kills": 0.3}),
    ("kill_scheduled_transmission",
     {"transmissions": [{"row": 0, "col": 4, "timer": 2, "enemy_type": "glitch",
                         "from_scheduled": True}]}, RIGHT, {"step_penalty": -0.01}),
    ("crash_two_kills",
     {"owned": ["CRASH"], "player": {"credits": 3, "energy": 2},
      "enemies": [daemon(1, 0, disabled=1), daemon(1, 1, disabled=1)]}, CRASH,
     {"step_penalty": -0.01, "kills": 0.6, "resource_gain": -0.25}),
    ("pickup", {"pickups": [[1, 0]]}, UP,
     {"step_penalty": -0.01, "data_siphon": 1.0, "distance_shaping": 0.05}),
    ("siph_plus_is_not_a_pickup", {"owned": ["SIPH+"], "player": {"credits": 5}}, SIPH_PLUS,
     {"step_penalty": -0.01, "resource_gain": -0.25}),
    ("siphon_resources",
     {"player": {"row": 2, "col": 2, "data_siphons": 1},
      "resources": [{"row": 3, "col": 2, "credits": 2}, {"row": 2, "col": 3, "energy": 3}]},
     SIPHON, {"step_penalty": -0.01, "resource_gain": 0.25}),
    ("wait_costs_energy", {"owned": ["WAIT"], "player": {"energy": 1}}, WAIT,
     {"step_penalty": -0.01, "resource_gain": -0.05}),
    ("exch_nets_zero", {"owned": ["EXCH"], "player": {"credits": 4}}, EXCH,
     {"step_penalty": -0.01}),
    ("damage_one", {"owned": ["WAIT"], "player": {"energy": 1}, "enemies": [daemon(1, 0)]}, WAIT,
     {"step_penalty": -0.01, "resource_gain": -0.05, "damage_penalty": -1.0}),
    ("damage_two", {"player": {"row": 1, "col": 1}, "enemies": [daemon(2, 2), daemon(0, 2)]}, RIGHT,
     {"step_penalty": -0.01, "distance_shaping": 0.05, "damage_penalty": -2.0}),
    ("disabled_enemy_no_damage",
     {"owned": ["WAIT"], "player": {"energy": 1}, "enemies": [daemon(1, 0, disabled=1)]}, WAIT,
     {"step_penalty": -0.01, "resource_gain": -0.05}),
    ("undo_after_reset_takes_hp_back",
     {"owned": ["UNDO", "RESET"], "player": {"hp": 3, "credits": 1, "energy": 6},
      "undo": {"owned": ["UNDO", "RESET"], "player": {"hp": 1, "credits": 1, "energy": 10}}},
     UNDO, {"step_penalty": -0.01, "damage_penalty": -2.0, "resource_gain": 0.2}),
    ("reset_from_one", {"owned": ["RESET"], "player": {"hp": 1, "energy": 4}}, RESET,
     {"step_penalty": -0.01, "hp_recovery": 2.0, "resource_gain": -0.2}),
    ("reset_waste_from_two", {"owned": ["RESET"], "player": {"hp": 2, "energy": 4}}, RESET,
     {"step_penalty": -0.01, "hp_recovery": 1.0, "resource_gain": -0.2, "program_waste": -0.3}),
    ("appendix_a5_siphon_quality",
     {"player": {"row": 2, "col": 1, "data_siphons": 1},
      "blocks": [{"row": 2, "col": 2, "kind": "data", "points": 5}],
      "resources": [{"row": 2, "col": 4, "credits": 3}]},
     SIPHON, {"step_penalty": -0.01, "score_gain": 2.5, "siphon_quality": -0.075}),
    ("siphon_quality_energy_and_credits",
     {"player": {"row": 0, "col": 0, "data_siphons": 1},
      "resources": [{"row": 0, "col": 1, "credits": 1}, {"row": 3, "col": 3, "credits": 2},
                    {"row": 3, "col": 4, "energy": 3}]},
     SIPHON, {"step_penalty": -0.01, "resource_gain": 0.05,
              "siphon_quality": -0.5 * (0.05 * 1 + 0.05 * 3)}),
    ("siphon_at_best_spot", {"player": {"row": 2, "col": 2, "data_siphons": 1},
                             "resources": [{"row": 2, "col": 3, "credits": 3}]},
     SIPHON, {"step_penalty": -0.01, "resource_gain": 0.15}),
    ("crash_opens_path",
     {"exit": [0, 5], "owned": ["CRASH"], "player": {"credits": 3, "energy": 2},
      "blocks": [{"row": r, "col": 1, "kind": "data", "points": 1} for r in range(5)]},
     CRASH, {"step_penalty": -0.01, "distance_shaping": 0.5, "resource_gain": -0.25}),
    ("warp_closer",
     {"owned": ["WARP"], "player": {"credits": 2, "energy": 2}, "enemies": [daemon(4, 4)]},
     WARP, {"step_penalty": -0.01, "kills": 0.3, "distance_shaping": 0.4,
            "resource_gain": -0.2}),
    ("undo_distance",
     {"owned": ["UNDO"], "player": {"credits": 1},
      "undo": {"owned": ["UNDO"], "player": {"row": 4, "col": 5, "credits": 1}}},
     UNDO, {"step_penalty": -0.01, "distance_shaping": 0.45}),
    ("warp_onto_exit_enemy",
     {"owned": ["WARP"], "player": {"credits": 2, "energy": 2}, "enemies": [daemon(5, 5)]},
     WARP, {"step_penalty": -0.01, "stage_completion": 1.0, "kills": 0.3,
            "distance_shaping": 0.5, "resource_gain": -0.2}),
    ("warp_onto_exit_transmission",
     {"owned": ["WARP"], "player": {"credits": 3, "energy": 2, "hp": 2},
      "transmissions": [{"row": 5, "col": 5, "enemy_type": "virus"}]},
     WARP, {"step_penalty": -0.01, "stage_completion": 1.0, "kills": 0.3,
            "distance_shaping": 0.5, "resource_gain": -0.2, "hp_recovery": 1.0,
            "resource_holding": 0.01}),
    ("appendix_a4_exit",
     {"stage": 3, "player": {"row": 5, "col": 4, "hp": 2, "credits": 10, "energy": 5},
      "enemies": [daemon(4, 4)]},
     RIGHT, {"step_penalty": -0.01, "stage_completion": 4.0, "distance_shaping": 0.05,
             "hp_recovery": 1.0, "resource_holding": 0.15}),
    ("victory",
     {"stage": 8, "player": {"row": 5, "col": 4, "score": 7}}, RIGHT,
     {"step_penalty": -0.01, "stage_completion": 100.0, "distance_shaping": 0.05,
      "victory": 1200.0}),
    ("victory_wounded_rich",
     {"stage": 8, "player": {"row": 4, "col": 5, "hp": 1, "score": 0, "credits": 3, "energy": 4}},
     UP, {"step_penalty": -0.01, "stage_completion": 100.0, "distance_shaping": 0.05,
          "victory": 500.0, "hp_recovery": 1.0, "resource_holding": 0.07}),
    ("appendix_a7_death_stage4",
     {"stage": 4, "player": {"hp": 1}, "enemies": [daemon(1, 1)]}, RIGHT,
     {"step_penalty": -0.01, "death_penalty": -3.5, "damage_penalty": -1.0}),
    ("siphon_enemy_death",
     {"stage": 2, "player": {"hp": 1}, "enemies": [daemon(1, 1, from_siphon=True)]}, RIGHT,
     {"step_penalty": -0.01, "death_penalty": -0.5, "damage_penalty": -1.0,
      "siphon_death_penalty": -10.0}),
    ("siphon_enemy_adjacent_not_the_killer",
     {"player": {"col": 2, "hp": 1},
      "enemies": [daemon(1, 1), daemon(1, 3, disabled=3, from_siphon=True)]},
     UP, {"step_penalty": -0.01, "damage_penalty": -1.0, "siphon_death_penalty": -10.0}),
    ("siphon_enemy_far_at_death",
     {"player": {"hp": 1}, "enemies": [daemon(1, 1), daemon(4, 4, disabled=3, from_siphon=True)]},
     RIGHT, {"step_penalty": -0.01, "damage_penalty": -1.0}),
    ("siphon_enemy_attacks_but_survived",
     {"player": {"hp": 2}, "enemies": [daemon(1, 1, from_siphon=True)]}, RIGHT,
     {"step_penalty": -0.01, "damage_penalty": -1.0, "distance_shaping": 0.05}),
]
CASES += [
    ("invalid_off_board", {"player": {"col": 5}}, RIGHT, {}),
    ("invalid_into_block", {"blocks": [{"row": 1, "col": 0, "kind": "data", "points": 1}]}, UP,
     {}),
    ("invalid_unaffordable", {"owned": ["WAIT"], "enemies": [daemon(1, 0)]}, WAIT, {}),
]
CASES += [
    (f"complete_stage_{s}", {"stage": s, "player": {"row": 5, "col": 4}}, RIGHT,
     {"step_penalty": -0.01, "stage_completion": STAGE_REWARDS[s - 1], "distance_shaping": 0.05})
    for s in range(1, 8)
]
CASES += [
    (f"death_stage_{s}", {"stage": s, "player": {"hp": 1}, "enemies": [daemon(1, 1)]}, RIGHT,
     {"step_penalty": -0.01, "damage_penalty": -1.0,
      "death_penalty": [0.0, -0.5, -1.5, -3.5, -7.5, -15.5, -31.5, -63.5][s - 1]})
    for s in range(1, 9)
]


@pytest.mark.parametrize(("scenario", "action", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_reward_case(scenario, action, expected):
    _, reward, _, breakdown = run(scenario, action)
    check(breakdown, **expected)
    assert reward == pytest.approx(sum(expected.values()), abs=1e-4)


@pytest.mark.parametrize("key", REWARD_KEYS)
def test_every_component_fires_and_stays_silent_somewhere(key):
    assert any(key in c[3] for c in CASES)
    assert any(key not in c[3] for c in CASES)


def test_appendix_a4_exact_total_and_no_enemy_turn():
    after, reward, done, _ = run(
        {"stage": 3, "player": {"row": 5, "col": 4, "hp": 2, "credits": 10, "energy": 5},
         "enemies": [daemon(4, 4)]}, RIGHT)
    assert reward == pytest.approx(5.19, abs=1e-5)
    assert not done and int(after.stage) == 4 and int(after.turn) == 0
    assert int(after.player.hp) == 3  # the adjacent daemon did not act
    assert int(after.sched_interval) == 9 and int(after.sched_next) == 9
    assert not bool(after.undo.valid)


def test_appendix_a7_exact_total():
    after, reward, done, _ = run({"stage": 4, "player": {"hp": 1}, "enemies": [daemon(1, 1)]},
                                 RIGHT)
    assert reward == pytest.approx(-4.51, abs=1e-5) and done and int(after.player.hp) == 0


def test_victory_ends_the_game_on_stage_8():
    after, reward, done, _ = run({"stage": 8, "player": {"row": 5, "col": 4, "score": 7}}, RIGHT)
    assert done and bool(after.won) and int(after.stage) == 8
    assert (int(after.player.row), int(after.player.col)) == (5, 5)
    assert reward == pytest.approx(1300.04, abs=1e-3)


def test_stage_7_completion_is_not_victory():
    after, _, done, b = run({"stage": 7, "player": {"row": 5, "col": 4}}, RIGHT)
    assert not done and not bool(after.won) and int(after.stage) == 8 and b["victory"] == 0.0


@pytest.mark.parametrize("action", [RIGHT, SIPHON, WAIT, HACK])
def test_invalid_action_all_zero(action):
    scenario = {"player": {"col": 5}}
    _, reward, done, breakdown = run(scenario, action)
    check(breakdown)
    assert reward == 0.0 and done


def _events(**kw):
    base = {"action": UP, "d0": 0, "kills": 0, "picked": False, "completed": False,
            "won": False, "siphon_found": False, "missed_credits": 0, "missed_energy": 0,
            "valid": True}
    base.update(kw)
    return StepEvents(**{k: jnp.asarray(v, jnp.bool_ if isinstance(v, bool) else jnp.int32)
                         for k, v in base.items()})


@pytest.mark.parametrize(("events", "expected"), [
    (_events(kills=3), {"kills": 0.9}),
    (_events(picked=True), {"data_siphon": 1.0}),
    (_events(action=SIPHON, siphon_found=True, missed_credits=2, missed_energy=0),
     {"siphon_quality": -0.05}),
    (_events(action=UP, siphon_found=True, missed_credits=2), {}),
    (_events(d0=6), {"distance_shaping": 0.1}),
    (_events(d0=3), {}),
    (_events(d0=4, completed=True), {"distance_shaping": 0.2, "stage_completion": 1.0}),
    (_events(action=RESET), {"program_waste": -0.3}),
    (_events(kills=2, picked=True, d0=4, action=RESET, valid=False), None),
])
def test_calculate_reward_direct(events, expected):
    """before == after: player (0,1), hp 2, exit (0,5), so d1 = 4."""
    state = state_from_scenario({"exit": [0, 5], "player": {"row": 0, "col": 1, "hp": 2}})
    total, breakdown = REWARD(state, state, events)
    breakdown = {k: float(v) for k, v in breakdown.items()}
    if expected is None:
        check(breakdown)
        assert float(total) == 0.0
    else:
        check(breakdown, step_penalty=-0.01, **expected)
