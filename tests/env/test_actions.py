"""Direction actions (rules §4.2)."""

import jax
import jax.numpy as jnp

from hackmatrix.env.actions import direction_action
from hackmatrix.env.constants import (
    CRYPTOG,
    DAEMON,
    DOWN,
    EMPTY,
    GLITCH,
    LEFT,
    PICKUP,
    RIGHT,
    UP,
    VIRUS,
)
from tests.env.conftest_actions import enemy_list, make_state, player_tuple, transmission_list

_direction = jax.jit(direction_action)


def _act(state, direction):
    state, kills, picked, exit_reached = _direction(state, direction)
    return state, int(kills), bool(picked), bool(exit_reached)


def test_move_to_an_empty_cell():
    s = make_state(player=(2, 2), resources=[(3, 2, 2, 0)])
    for direction, cell in ((UP, (3, 2)), (DOWN, (1, 2)), (LEFT, (2, 1)), (RIGHT, (2, 3))):
        out, kills, picked, exit_reached = _act(s, direction)
        assert (int(out.player.row), int(out.player.col)) == cell
        assert (kills, picked, exit_reached) == (0, False, False)
    # Moving never collects resources.
    out, *_ = _act(s, UP)
    assert int(out.player.credits) == 0 and int(out.grid.credits[3, 2]) == 2


def test_move_onto_pickup_collects_a_data_siphon():
    s = make_state(player=(0, 4), data_siphons=1)
    s = s.replace(grid=s.grid.replace(content=s.grid.content.at[0, 5].set(PICKUP)))
    out, kills, picked, exit_reached = _act(s, RIGHT)
    assert player_tuple(out)[:2] == (0, 5)
    assert int(out.player.data_siphons) == 2
    assert int(out.grid.content[0, 5]) == EMPTY
    assert (kills, picked, exit_reached) == (0, True, False)


def test_move_onto_exit():
    s = make_state(player=(5, 4))
    out, kills, picked, exit_reached = _act(s, RIGHT)
    assert player_tuple(out)[:2] == (5, 5)
    assert (kills, picked, exit_reached) == (0, False, True)


def test_attack_at_range_stuns_a_survivor_and_player_stays():
    s = make_state(player=(0, 2), enemies=[{"type": DAEMON, "row": 5, "col": 2}])
    out, kills, picked, exit_reached = _act(s, UP)
    assert player_tuple(out)[:2] == (0, 2)
    assert enemy_list(out) == [(DAEMON, 5, 2, 2, True)]
    assert (kills, picked, exit_reached) == (0, False, False)


def test_kill_removes_and_compacts_and_counts():
    s = make_state(player=(2, 0), attack=2, enemies=[
        {"type": VIRUS, "row": 2, "col": 4},
        {"type": GLITCH, "row": 0, "col": 0},
    ])
    out, kills, _, _ = _act(s, RIGHT)
    assert enemy_list(out) == [(GLITCH, 0, 0, 2, False)]
    assert kills == 1
    assert int(out.enemies.hp[1]) == 0 and int(out.enemies.type[1]) == 0  # canonical empty slot


def test_scheduled_kills_do_not_count():
    s = make_state(player=(2, 0), enemies=[
        {"type": VIRUS, "row": 2, "col": 4, "hp": 1, "from_scheduled": True}])
    out, kills, _, _ = _act(s, RIGHT)
    assert enemy_list(out) == [] and kills == 0
    s = make_state(player=(2, 0), transmissions=[{"row": 2, "col": 3, "from_scheduled": True}])
    out, kills, _, _ = _act(s, RIGHT)
    assert transmission_list(out) == [] and kills == 0


def test_transmission_preferred_over_enemy_on_the_same_cell():
    s = make_state(
        player=(1, 1),
        enemies=[{"type": DAEMON, "row": 4, "col": 1}],
        transmissions=[{"row": 3, "col": 3, "timer": 2}, {"row": 4, "col": 1, "timer": 3},
                       {"row": 4, "col": 1, "timer": 4}],
    )
    out, kills, _, _ = _act(s, UP)
    assert enemy_list(out) == [(DAEMON, 4, 1, 3, False)]
    # The first transmission on the cell (list order) is destroyed.
    assert transmission_list(out) == [(3, 3, 2, 0), (4, 1, 4, 0)]
    assert kills == 1
    assert player_tuple(out)[:2] == (1, 1)


def test_first_enemy_in_list_order_on_a_stacked_cell_is_hit():
    s = make_state(player=(3, 5), enemies=[
        {"type": VIRUS, "row": 0, "col": 0},
        {"type": DAEMON, "row": 3, "col": 1},
        {"type": GLITCH, "row": 3, "col": 1},
    ])
    out, kills, _, _ = _act(s, LEFT)
    assert enemy_list(out) == [
        (VIRUS, 0, 0, 2, False), (DAEMON, 3, 1, 2, True), (GLITCH, 3, 1, 2, False)]
    assert kills == 0


def test_nearest_target_is_hit_not_a_farther_one():
    s = make_state(player=(5, 3), enemies=[
        {"type": VIRUS, "row": 0, "col": 3},
        {"type": VIRUS, "row": 2, "col": 3},
    ])
    out, *_ = _act(s, DOWN)
    assert enemy_list(out) == [(VIRUS, 0, 3, 2, False), (VIRUS, 2, 3, 1, True)]


def test_block_stops_the_scan_and_the_player_moves():
    s = make_state(player=(0, 0), blocks=[{"row": 2, "col": 0, "kind": "data", "points": 3}],
                   enemies=[{"type": VIRUS, "row": 4, "col": 0}],
                   transmissions=[{"row": 5, "col": 0}])
    out, kills, _, _ = _act(s, UP)
    assert player_tuple(out)[:2] == (1, 0)
    assert enemy_list(out) == [(VIRUS, 4, 0, 2, False)]
    assert len(transmission_list(out)) == 1 and kills == 0


def test_enemy_standing_on_a_block_is_attacked():
    s = make_state(player=(0, 0), blocks=[{"row": 3, "col": 0, "kind": "program", "program": 5}],
                   enemies=[{"type": GLITCH, "row": 3, "col": 0}])
    out, kills, _, _ = _act(s, UP)
    assert enemy_list(out) == [(GLITCH, 3, 0, 1, True)]
    assert player_tuple(out)[:2] == (0, 0) and kills == 0


def test_hidden_cryptog_is_a_valid_target():
    # SHOW is off; cryptog visibility matters only for the observation.
    s = make_state(player=(4, 0), attack=2, enemies=[{"type": CRYPTOG, "row": 4, "col": 5}])
    out, kills, _, _ = _act(s, RIGHT)
    assert enemy_list(out) == [] and kills == 1


def test_enemy_on_the_players_cell_is_not_a_target():
    # After WARP an enemy may share the player's cell: distance 0, never attacked.
    s = make_state(player=(2, 2), enemies=[{"type": VIRUS, "row": 2, "col": 2}])
    out, kills, _, _ = _act(s, UP)
    assert player_tuple(out)[:2] == (3, 2)
    assert enemy_list(out) == [(VIRUS, 2, 2, 2, False)] and kills == 0


def test_attack_floors_hp_at_zero():
    s = make_state(player=(0, 0), attack=5, enemies=[{"type": DAEMON, "row": 0, "col": 1}])
    out, kills, _, _ = _act(s, RIGHT)
    assert enemy_list(out) == [] and kills == 1


def test_jit_and_vmap_over_directions_and_states():
    s = make_state(player=(2, 2), enemies=[{"type": VIRUS, "row": 2, "col": 5, "hp": 1}],
                   transmissions=[{"row": 0, "col": 2}])
    batched = jax.jit(jax.vmap(direction_action, in_axes=(None, 0)))
    out, kills, picked, exit_reached = batched(s, jnp.arange(4))
    assert out.player.row.tolist() == [3, 2, 2, 2]
    assert out.player.col.tolist() == [2, 2, 1, 2]
    assert kills.tolist() == [0, 1, 0, 1]
    assert out.enemies.count.tolist() == [1, 1, 1, 0]
    assert out.transmissions.count.tolist() == [1, 0, 1, 1]
    assert picked.tolist() == [False] * 4 and exit_reached.tolist() == [False] * 4
    states = jax.tree.map(lambda *xs: jnp.stack(xs), s, make_state(player=(5, 4)))
    out, kills, _, exit_reached = jax.jit(jax.vmap(direction_action))(states, jnp.array([3, 3]))
    assert kills.tolist() == [1, 0] and exit_reached.tolist() == [False, True]
