"""The grid network's 3x3 layer is a 3x3 'SAME' convolution, and grid training runs end to end."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hackmatrix.core import load_config
from hackmatrix.core.networks import Conv3x3, make_network, neighbourhoods, split_observation
from hackmatrix.core.parallel import compile_for_config, make_mesh
from hackmatrix.env.constants import GRID, GRID_CHANNELS, NUM_ACTIONS, OBS_SIZE


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
    vector, grid = split_observation(obs)
    assert vector.shape == (2, OBS_SIZE - GRID * GRID * GRID_CHANNELS)
    assert grid.shape == (2, GRID, GRID, GRID_CHANNELS)
    # Cell (row 1, col 2), channel 3 of the second observation.
    flat = OBS_SIZE + vector.shape[1] + (1 * GRID + 2) * GRID_CHANNELS + 3
    assert float(grid[1, 1, 2, 3]) == flat


def test_grid_network_keeps_the_convolution_param_layout():
    config = load_config(None, ["network.kind=grid", "network.conv_channels=[4, 3]",
                                "network.hidden_sizes=[8]"])
    params = make_network(config.network, NUM_ACTIONS).init(jax.random.PRNGKey(0),
                                                             jnp.zeros((1, OBS_SIZE)))
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
    runner = compiled.init(jax.random.PRNGKey(0))
    start = jax.device_get(runner.params)
    runner, metrics = compiled.chunk(runner, jnp.int32(2))
    assert int(runner.update) == 2
    for key in ("train/total_loss", "train/grad_norm", "train/entropy"):
        assert np.all(np.isfinite(np.asarray(metrics[key]))), key
    kernel = runner.params["params"]["GridTower_0"]["Conv_0"]["kernel"]
    assert not np.array_equal(np.asarray(kernel),
                              start["params"]["GridTower_0"]["Conv_0"]["kernel"])
