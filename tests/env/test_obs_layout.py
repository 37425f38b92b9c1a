"""The observation layout the env describes: rules §9's offsets, and splitting real observations."""

import json

import jax
import numpy as np
import pytest

from hackmatrix.env import HackMatrixEnv, observe_structured, state_from_scenario
from hackmatrix.env.constants import DAEMON, ENEMY_NAMES, NUM_ENEMY_TYPES, OBS_LAYOUT
from hackmatrix.env.obs_layout import Group, ObsLayout, single

# (start, size) of every channel group, as rules §9 numbers the channels.
RULES_CHANNELS = {
    "enemy_type": (0, 4), "enemy_hp": (4, 1), "enemy_stunned": (5, 1),
    "enemy_from_siphon": (6, 1), "block_kind": (7, 3), "block_points": (10, 1),
    "block_siphoned": (11, 1), "block_program": (12, 23), "block_spawn": (35, 1),
    "transmission_timer": (36, 1), "credits": (37, 1), "energy": (38, 1), "pickup": (39, 1),
    "exit": (40, 1), "siphon_center": (41, 1),
}
SCENARIO = {"player": {"row": 0, "col": 4, "hp": 2}, "owned": ["WARP", "HACK"],
            "enemies": [{"type": "daemon", "row": 3, "col": 4}],
            "resources": [{"row": 2, "col": 1, "energy": 2}]}


@pytest.fixture(scope="module")
def layout():
    return HackMatrixEnv().observation_layout()


@pytest.mark.parametrize("name", sorted(RULES_CHANNELS))
def test_channel_groups_sit_where_the_rules_put_them(layout, name):
    start, size = RULES_CHANNELS[name]
    assert layout.channel_slice(name) == slice(start, start + size)


def test_channel_groups_are_exactly_the_rules_ones(layout):
    assert [g.name for g in layout.channels] == list(RULES_CHANNELS)


def test_vector_groups_come_first(layout):
    assert layout.vector_slice("player") == slice(0, 10)
    assert layout.vector_slice("programs") == slice(10, 33)


def test_sizes_match_the_observation_space(layout):
    env = HackMatrixEnv()
    assert env.observation_space().shape == (layout.size,)


def test_grid_sizes(layout):
    assert layout.grid_offset == 33
    assert layout.grid_channels == 42
    assert layout.grid_shape == (6, 6)


def test_enemy_type_channels_are_named_by_the_enemy_table(layout):
    assert layout.channels[0].labels == ENEMY_NAMES
    assert layout.channels[0].size == NUM_ENEMY_TYPES


def test_split_of_a_real_observation_gives_the_structured_parts(layout):
    state = state_from_scenario(SCENARIO)
    flat = HackMatrixEnv().observe(state)
    parts = layout.split(flat)
    structured = observe_structured(state)
    for name in ("player", "programs", "grid"):
        np.testing.assert_array_equal(np.asarray(parts[name]), np.asarray(structured[name]))


def test_split_finds_a_daemon_by_name(layout):
    grid = layout.split(np.asarray(HackMatrixEnv().observe(state_from_scenario(SCENARIO))))["grid"]
    enemy_type = grid[3, 4, layout.channel_slice("enemy_type")]
    assert np.flatnonzero(enemy_type).tolist() == [DAEMON]


def test_split_keeps_batch_axes(layout):
    batch = np.zeros((2, 3, layout.size), np.float32)
    parts = layout.split(batch)
    assert parts["grid"].shape == (2, 3, 6, 6, 42)
    assert parts["programs"].shape == (2, 3, 23)


def test_split_works_under_jit(layout):
    grid = jax.jit(lambda x: layout.split(x)["grid"])(np.zeros((4, layout.size), np.float32))
    assert grid.shape == (4, 6, 6, 42)


def test_split_refuses_a_wrong_size(layout):
    with pytest.raises(ValueError, match="1544 features, the layout 1545"):
        layout.split(np.zeros(1544))


def test_unknown_group_names_the_valid_ones(layout):
    with pytest.raises(KeyError, match="use one of"):
        layout.channel_slice("enemy")


def test_describe_is_plain_json_with_contiguous_offsets(layout):
    described = json.loads(json.dumps(layout.describe()))
    ends = [c["start"] + c["size"] for c in described["channels"]]
    starts = [c["start"] for c in described["channels"]]
    assert starts == [0] + ends[:-1]
    assert described["size"] == 1545


def test_duplicate_group_names_are_refused():
    with pytest.raises(ValueError, match="unique"):
        ObsLayout(vector=(single("a"),), grid_shape=(1, 1), channels=(Group("a", ("x", "y")),))


def test_env_layout_is_the_game_layout(layout):
    assert layout is OBS_LAYOUT
