"""The rules §9 observation, channel by channel, on hand-made scenarios."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hackmatrix.env.constants import OBS_SIZE
from hackmatrix.env.observation import observe, observe_structured
from hackmatrix.env.scenario import state_from_scenario

GRID_OFFSET = 10 + 23


def grid_of(scenario):
    """Return the [6, 6, 42] grid part of a scenario's observation as numpy."""
    return np.asarray(observe_structured(state_from_scenario(scenario))["grid"])


def test_shapes_dtypes_and_flat_is_concatenation():
    s = state_from_scenario({"enemies": [{"type": "daemon", "row": 3, "col": 4}],
                             "owned": ["WARP"], "resources": [{"row": 2, "col": 1, "energy": 2}]})
    parts = observe_structured(s)
    assert parts["player"].shape == (10,) and parts["programs"].shape == (23,)
    assert parts["grid"].shape == (6, 6, 42)
    flat = observe(s)
    assert flat.shape == (OBS_SIZE,) == (1545,) and flat.dtype == jnp.float32
    expected = np.concatenate([parts["player"], parts["programs"], np.ravel(parts["grid"])])
    np.testing.assert_array_equal(np.asarray(flat), expected)
    # [row][col][ch] layout, row 0 = bottom: daemon (3,4) channel 1, energy (2,1) channel 38.
    assert flat[GRID_OFFSET + (3 * 6 + 4) * 42 + 1] == 1.0
    assert flat[GRID_OFFSET + (2 * 6 + 1) * 42 + 38] == pytest.approx(2 / 3)


def test_player_features_exact():
    s = state_from_scenario({
        "stage": 3, "flags": {"show": True, "calm": False},
        "player": {"row": 2, "col": 3, "hp": 2, "credits": 60, "energy": 25, "data_siphons": 12,
                   "attack": 4, "score": 99},
    })
    expected = [2 / 5, 3 / 5, 2 / 3, 1.0, 0.5, 2 / 7, 1.2, 1.5, 1.0, 0.0]
    np.testing.assert_allclose(np.asarray(observe_structured(s)["player"]), expected, rtol=1e-6)
    s = state_from_scenario({"stage": 8, "flags": {"calm": True},
                             "player": {"row": 5, "col": 0, "hp": 0}})
    expected = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    np.testing.assert_allclose(np.asarray(observe_structured(s)["player"]), expected, rtol=1e-6)


def test_programs_one_hot():
    s = state_from_scenario({"owned": ["PUSH", "UNDO", "HACK"]})
    programs = np.asarray(observe_structured(s)["programs"])
    assert np.flatnonzero(programs).tolist() == [0, 9, 22]
    assert programs.sum() == 3.0


def test_enemy_channels_first_enemy_on_stacked_cell():
    g = grid_of({"player": {"row": 0, "col": 0}, "enemies": [
        {"type": "glitch", "row": 2, "col": 0, "hp": 1, "stunned": True, "from_siphon": True},
        {"type": "daemon", "row": 2, "col": 0},
        {"type": "daemon", "row": 4, "col": 4, "hp": 2},
    ]})
    np.testing.assert_allclose(g[2, 0, :7], [0, 0, 1, 0, 1 / 3, 1, 1], rtol=1e-6)
    np.testing.assert_allclose(g[4, 4, :7], [0, 1, 0, 0, 2 / 3, 0, 0], rtol=1e-6)
    assert g[:, :, :7].sum() == pytest.approx((3 + 1 / 3) + (1 + 2 / 3))


@pytest.mark.parametrize(("player", "show", "visible"), [
    ((1, 1), False, False),   # not aligned, no SHOW -> hidden
    ((3, 1), False, True),    # same row
    ((1, 4), False, True),    # same column
    ((1, 1), True, True),     # SHOW
])
def test_cryptog_visibility(player, show, visible):
    g = grid_of({"player": {"row": player[0], "col": player[1]}, "flags": {"show": show},
                 "enemies": [{"type": "cryptog", "row": 3, "col": 4, "from_siphon": True}]})
    expected = [0, 0, 0, 1, 2 / 3, 0, 1] if visible else [0] * 7
    np.testing.assert_allclose(g[3, 4, :7], expected, rtol=1e-6)


def test_hidden_first_cryptog_hides_the_whole_cell():
    g = grid_of({"player": {"row": 0, "col": 0}, "enemies": [
        {"type": "cryptog", "row": 3, "col": 4},
        {"type": "virus", "row": 3, "col": 4},
        {"type": "virus", "row": 2, "col": 2},
        {"type": "cryptog", "row": 2, "col": 2},
    ]})
    assert g[3, 4, :7].tolist() == [0] * 7
    np.testing.assert_allclose(g[2, 2, :7], [1, 0, 0, 0, 2 / 3, 0, 0], rtol=1e-6)


def test_block_channels():
    g = grid_of({"player": {"row": 0, "col": 0}, "blocks": [
        {"row": 1, "col": 1, "kind": "data", "points": 6, "spawn": 4},
        {"row": 1, "col": 2, "kind": "program", "program": "SIPH+", "spawn": 0,
         "siphoned": True},
        {"row": 1, "col": 3, "kind": "question", "points": 7},
        {"row": 1, "col": 4, "kind": "question", "program": "CRASH"},
    ], "siphoned": [[0, 1]]})
    data, prog, q_data, q_prog = g[1, 1], g[1, 2], g[1, 3], g[1, 4]
    np.testing.assert_allclose(data[7:12], [1, 0, 0, 6 / 9, 0], rtol=1e-6)
    assert data[12:35].sum() == 0 and data[35] == pytest.approx(4 / 9)
    np.testing.assert_allclose(prog[7:12], [0, 1, 0, 0, 1], rtol=1e-6)
    assert np.flatnonzero(prog[12:35]).tolist() == [11] and prog[35] == 0.0
    for q in (q_data, q_prog):
        np.testing.assert_allclose(q[7:12], [0, 0, 1, 0, 0])
        assert q[12:36].sum() == 0
    # a siphoned non-block cell has channel 11 == 0
    assert g[0, 1, 11] == 0.0
    assert g[:, :, 7:36].sum() == pytest.approx(1 + 6 / 9 + 4 / 9 + 1 + 1 + 1 + 1 + 1)


def test_program_block_spawn_channel():
    g = grid_of({"blocks": [{"row": 2, "col": 3, "kind": "program", "program": "ATK+"}]})
    assert g[2, 3, 35] == pytest.approx(8 / 9)
    assert g[2, 3, 12 + 21] == 1.0


def test_transmission_timer_first_on_cell():
    g = grid_of({"transmissions": [
        {"row": 2, "col": 2, "timer": 2, "enemy_type": "virus"},
        {"row": 2, "col": 2, "timer": 1, "enemy_type": "daemon"},
        {"row": 3, "col": 0, "timer": 9, "enemy_type": "daemon"},
    ]})
    assert g[2, 2, 36] == 0.5 and g[3, 0, 36] == 1.0
    assert g[:, :, 36].sum() == 1.5
    assert g[:, :, :7].sum() == 0.0  # transmission types are not observed


def test_resources_content_and_siphon_center():
    g = grid_of({"exit": [0, 5], "player": {"row": 5, "col": 5},
                 "resources": [{"row": 3, "col": 3, "credits": 2}, {"row": 0, "col": 0, "energy": 3}],
                 "pickups": [[0, 0], [5, 0]], "siphon_centers": [[4, 4]]})
    assert g[3, 3, 37] == pytest.approx(2 / 3) and g[3, 3, 38] == 0.0
    assert g[0, 0, 38] == 1.0 and g[0, 0, 39] == 1.0
    assert g[5, 0, 39] == 1.0 and g[0, 5, 40] == 1.0 and g[4, 4, 41] == 1.0
    assert g[:, :, 37:].sum() == pytest.approx(2 / 3 + 1 + 2 + 1 + 1)


def test_jit_and_vmap_agree_with_eager():
    a = state_from_scenario({"enemies": [{"type": "cryptog", "row": 0, "col": 3}]})
    b = state_from_scenario({"player": {"row": 2, "col": 2}, "stage": 5,
                             "enemies": [{"type": "cryptog", "row": 0, "col": 3}]})
    batch = jax.tree.map(lambda x, y: jnp.stack([x, y]), a, b)
    out = jax.jit(jax.vmap(observe))(batch)
    np.testing.assert_array_equal(np.asarray(out[0]), np.asarray(observe(a)))
    np.testing.assert_array_equal(np.asarray(out[1]), np.asarray(observe(b)))
    assert out[0, GRID_OFFSET + 3 * 42 + 3] == 1.0  # aligned (row 0) -> visible
    assert out[1, GRID_OFFSET + 3 * 42 + 3] == 0.0  # not aligned -> hidden
