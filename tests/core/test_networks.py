"""The grid network's 3x3 layer is a 3x3 'SAME' convolution, the egocentric network sees the board
re-centred on the player, and both train end to end."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hackmatrix.core import load_config
from hackmatrix.core.networks import (
    Conv3x3,
    egocentric,
    make_network,
    neighbourhoods,
    split_observation,
)
from hackmatrix.core.parallel import (
    compile_for_config,
    default_hparams,
    make_mesh,
    place_hparams,
    stack_seed_keys,
)
from hackmatrix.env.constants import GRID, GRID_CHANNELS, NUM_ACTIONS, OBS_LAYOUT, OBS_SIZE
from hackmatrix.env.obs_layout import Group, ObsLayout, single
from hackmatrix.errors import ConfigError


@pytest.mark.parametrize("shape", [(6, 6, 42), (2, 5, 6, 6, 42), (3, 4, 7, 3)])
def test_conv3x3_equals_flax_convolution_with_the_same_params(shape):
    grid = jax.random.normal(jax.random.PRNGKey(0), shape)
    conv = nn.Conv(5, (3, 3), padding="SAME")
    params = conv.init(jax.random.PRNGKey(1), grid)
    # A nonzero bias, so a wrong bias broadcast would show.
    params = jax.tree.map(lambda p: p + 0.3, params)
    expected = conv.apply(params, grid)
    got = Conv3x3(5).apply(params, grid)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_conv3x3_gradients_equal_the_convolution_gradients():
    grid = jax.random.normal(jax.random.PRNGKey(2), (4, 6, 6, 8))
    params = nn.Conv(3, (3, 3), padding="SAME").init(jax.random.PRNGKey(3), grid)

    def loss(module):
        return lambda p, g: jnp.sum(jnp.tanh(module.apply(p, g)) ** 2)

    expected = jax.grad(loss(nn.Conv(3, (3, 3), padding="SAME")), argnums=(0, 1))(params, grid)
    got = jax.grad(loss(Conv3x3(3)), argnums=(0, 1))(params, grid)
    for g, e in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


def test_neighbourhoods_of_a_corner_cell_hold_zeros_outside_the_grid():
    grid = jnp.arange(1.0, 10.0).reshape(3, 3, 1)
    corner = np.asarray(neighbourhoods(grid)[0, 0])
    np.testing.assert_array_equal(corner, [0, 0, 0, 0, 1, 2, 0, 4, 5])


def test_split_observation_reads_the_flat_layout():
    obs = jnp.arange(2 * OBS_SIZE, dtype=jnp.float32).reshape(2, OBS_SIZE)
    vector, grid = split_observation(obs, OBS_LAYOUT)
    assert vector.shape == (2, OBS_SIZE - GRID * GRID * GRID_CHANNELS)
    assert grid.shape == (2, GRID, GRID, GRID_CHANNELS)
    # Cell (row 1, col 2), channel 3 of the second observation.
    flat = OBS_SIZE + vector.shape[1] + (1 * GRID + 2) * GRID_CHANNELS + 3
    assert float(grid[1, 1, 2, 3]) == flat


def test_grid_network_keeps_the_convolution_param_layout():
    config = load_config(None, ["network.kind=grid", "network.conv_channels=[4, 3]",
                                "network.hidden_sizes=[8]"])
    params = make_network(config.network, NUM_ACTIONS, OBS_LAYOUT).init(
        jax.random.PRNGKey(0), jnp.zeros((1, OBS_SIZE)))
    tower = params["params"]["GridTower_0"]
    assert tower["Conv_0"]["kernel"].shape == (3, 3, GRID_CHANNELS, 4)
    assert tower["Conv_1"]["kernel"].shape == (3, 3, 4, 3)
    assert tower["Conv_1"]["bias"].shape == (3,)


def test_tiny_grid_network_trains_end_to_end():
    config = load_config(None, [
        "network.kind=grid", "network.conv_channels=[4]", "network.hidden_sizes=[16]",
        "env.num_envs=4", "ppo.num_steps=4", "ppo.total_timesteps=32",
        "ppo.num_minibatches=2", "ppo.update_epochs=1", "run.updates_per_chunk=2"])
    compiled = compile_for_config(config, make_mesh())
    runner = compiled.init(stack_seed_keys([0]))
    start = jax.device_get(runner.params)
    hparams = place_hparams(compiled, default_hparams(compiled.trainer))
    runner, metrics = compiled.chunk(runner, jnp.int32(2), hparams)
    assert runner.update.tolist() == [2]  # one seed, on the seed axis
    for key in ("train/total_loss", "train/grad_norm", "train/entropy"):
        assert np.all(np.isfinite(np.asarray(metrics[key]))), key
    kernel = runner.params["params"]["GridTower_0"]["Conv_0"]["kernel"]
    assert not np.array_equal(np.asarray(kernel),
                              start["params"]["GridTower_0"]["Conv_0"]["kernel"])


def test_egocentric_window_puts_the_player_cell_in_the_centre():
    rng = np.random.default_rng(0)
    grid = jnp.asarray(rng.random((2, 3, GRID, GRID, 4)), jnp.float32)
    row = jnp.asarray(rng.integers(0, GRID, (2, 3)))
    col = jnp.asarray(rng.integers(0, GRID, (2, 3)))
    ego = np.asarray(egocentric(grid, row, col))
    assert ego.shape == (2, 3, 2 * GRID - 1, 2 * GRID - 1, 5)
    for a, b in np.ndindex(2, 3):
        r, c = int(row[a, b]), int(col[a, b])
        for i, j in np.ndindex(2 * GRID - 1, 2 * GRID - 1):
            cell = (r + i - (GRID - 1), c + j - (GRID - 1))
            on_board = 0 <= cell[0] < GRID and 0 <= cell[1] < GRID
            expected = np.append(grid[a, b][cell], 1.0) if on_board else np.zeros(5)
            np.testing.assert_array_equal(ego[a, b, i, j], expected, err_msg=f"{a, b, i, j}")


def test_ego_network_reads_the_player_cell_from_the_observation():
    """Two observations that differ only in the player's row/col features get different
    egocentric inputs, hence (almost surely) different logits."""
    from hackmatrix.env.wrapper import HackMatrixEnv
    env = HackMatrixEnv()
    obs, _ = env.reset(jax.random.PRNGKey(0), env.default_params)
    moved = obs.at[0].set((float(obs[0]) * (GRID - 1) + 1) % GRID / (GRID - 1))
    config = load_config(None, ["network.kind=ego", "network.hidden_sizes=[8]"])
    network = make_network(config.network, NUM_ACTIONS, env.observation_layout())
    params = network.init(jax.random.PRNGKey(0), obs[None])
    assert params["params"]["EgoTower_0"]["Dense_0"]["kernel"].shape == (
        (2 * GRID - 1) ** 2 * (GRID_CHANNELS + 1) + OBS_SIZE - GRID * GRID * GRID_CHANNELS, 8)
    logits, _ = network.apply(params, jnp.stack([obs, moved]))
    assert not np.allclose(logits[0], logits[1])


def test_tiny_ego_network_trains_end_to_end():
    config = load_config(None, [
        "network.kind=ego", "network.hidden_sizes=[16]",
        "env.num_envs=4", "ppo.num_steps=4", "ppo.total_timesteps=32",
        "ppo.num_minibatches=2", "ppo.update_epochs=1", "run.updates_per_chunk=2"])
    compiled = compile_for_config(config, make_mesh())
    hparams = place_hparams(compiled, default_hparams(compiled.trainer))
    runner, metrics = compiled.chunk(compiled.init(stack_seed_keys([0])), jnp.int32(2), hparams)
    assert runner.update.tolist() == [2]  # one seed, on the seed axis
    assert np.all(np.isfinite(np.asarray(metrics["train/total_loss"])))


# A small observation of another env: 2 vector features (the player's cell), a 3x4 grid of 2
# channels; the networks size themselves from it.
SMALL = ObsLayout(vector=(Group("me", ("r", "c")),), grid_shape=(3, 4),
                  channels=(single("wall"), single("goal")), position=("me", "r", "c"))


def test_grid_position_decodes_the_scaled_player_cell():
    obs = np.zeros((2, SMALL.size), np.float32)
    obs[0, :2] = (2 / 2, 1 / 3)
    obs[1, :2] = (0.0, 3 / 3)
    row, col = SMALL.grid_position(jnp.asarray(obs))
    assert row.tolist() == [2, 0]
    assert col.tolist() == [1, 3]


@pytest.mark.parametrize("kind", ["grid", "ego"])
def test_networks_are_sized_from_another_envs_layout(kind):
    config = load_config(None, [f"network.kind={kind}", "network.hidden_sizes=[8]",
                                "network.conv_channels=[3]"])
    network = make_network(config.network, 5, SMALL)
    obs = jax.random.uniform(jax.random.PRNGKey(0), (4, SMALL.size))
    params = network.init(jax.random.PRNGKey(1), obs)
    logits, value = network.apply(params, obs)
    assert logits.shape == (4, 5)
    assert value.shape == (4,)
    kernel = params["params"][f"{kind.capitalize()}Tower_0"]["Dense_0"]["kernel"]
    # grid: 12 cells x 3 conv channels + 2 vector floats; ego: a 5x7 window of 2+1 channels + 2.
    inputs = 3 * 4 * 3 + 2 if kind == "grid" else 5 * 7 * 3 + 2
    assert kernel.shape == (inputs, 8)


def test_grid_networks_need_an_env_that_describes_its_observation():
    config = load_config(None, ["network.kind=grid"])
    with pytest.raises(ConfigError, match="use network.kind=mlp"):
        make_network(config.network, 5, None)


def test_the_ego_network_needs_a_player_position():
    config = load_config(None, ["network.kind=ego"])
    no_player = ObsLayout(vector=(), grid_shape=(3, 3), channels=(single("wall"),))
    with pytest.raises(ConfigError, match="names no player position"):
        make_network(config.network, 5, no_player)
