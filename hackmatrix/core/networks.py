"""Actor-critic networks: an MLP over the flat observation, a grid-aware convolutional one, or an
MLP over the grid re-centred on the player (egocentric).

The actor and the critic are separate towers (no shared weights), as in the usual PPO setup for
small discrete games: the critic's large-return regression never distorts the policy features.
Every size comes from the env: the action count, and for the grid and egocentric towers the
observation layout it describes (`env.observation_layout()`: vector groups, grid, player cell).
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from hackmatrix.env.obs_layout import ObsLayout
from hackmatrix.errors import ConfigError

ACTIVATIONS = {"tanh": nn.tanh, "relu": nn.relu}


def _dense(features, scale):
    return nn.Dense(features, kernel_init=nn.initializers.orthogonal(scale),
                    bias_init=nn.initializers.zeros)


def _hidden_layers(x, sizes, act):
    """Apply the dense hidden layers (created in the calling module, as Dense_0, Dense_1, ...)."""
    for size in sizes:
        x = act(_dense(size, np.sqrt(2))(x))
    return x


class MLPTower(nn.Module):
    """Dense layers over the flat observation."""

    hidden_sizes: Sequence[int]
    activation: str

    @nn.compact
    def __call__(self, obs):
        """Return the last hidden layer's features."""
        return _hidden_layers(obs, self.hidden_sizes, ACTIVATIONS[self.activation])


def split_observation(obs, layout: ObsLayout):
    """Return (vector [..., V], grid [..., rows, cols, channels]) of flat observations."""
    return obs[..., :layout.vector_size], layout.split(obs)["grid"]


def neighbourhoods(grid):
    """Return [..., H, W, 9 * C]: each cell's 3x3 neighbourhood (zero outside), row-major.

    Built from padded shifted slices rather than a gather, so its gradient is slices and pads
    too (a gather's would be a scatter).
    """
    height, width = grid.shape[-3], grid.shape[-2]
    padded = jnp.pad(grid, [(0, 0)] * (grid.ndim - 3) + [(1, 1), (1, 1), (0, 0)])
    return jnp.concatenate([padded[..., dy:dy + height, dx:dx + width, :]
                            for dy in range(3) for dx in range(3)], axis=-1)


class Conv3x3(nn.Module):
    """A 3x3 'SAME' convolution as one dense layer over each cell's neighbourhood.

    Mathematically nn.Conv(features, (3, 3), padding="SAME") with the same params (kernel
    [3, 3, in, out], bias [out]), so checkpoints of either load in the other; XLA:CPU runs
    convolutions and their gradients at 6x6 shapes far slower than this matmul.
    """

    features: int
    kernel_init: object = nn.initializers.orthogonal(np.sqrt(2))

    @nn.compact
    def __call__(self, grid):
        """Return [..., H, W, features] for a [..., H, W, C] grid."""
        channels = grid.shape[-1]
        kernel = self.param("kernel", self.kernel_init, (3, 3, channels, self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        return neighbourhoods(grid) @ kernel.reshape(9 * channels, self.features) + bias


class GridTower(nn.Module):
    """3x3 convolutions over the grid, joined with the observation's vector groups."""

    layout: ObsLayout
    hidden_sizes: Sequence[int]
    conv_channels: Sequence[int]
    activation: str

    @nn.compact
    def __call__(self, obs):
        """Return the last hidden layer's features."""
        act = ACTIVATIONS[self.activation]
        vector, grid = split_observation(obs, self.layout)
        for i, channels in enumerate(self.conv_channels):
            # Named as nn.Conv named its layers, so earlier grid checkpoints keep loading.
            grid = act(Conv3x3(channels, name=f"Conv_{i}")(grid))
        x = jnp.concatenate([grid.reshape(obs.shape[:-1] + (-1,)), vector], axis=-1)
        return _hidden_layers(x, self.hidden_sizes, act)


def egocentric(grid, row, col):
    """Return [..., 2H-1, 2W-1, C+1]: the grid re-centred on cell (row, col) of each observation.

    The window covers the whole board from any cell, so nothing is lost; the extra last channel
    is 1 on the board and 0 outside it, so the network sees the edges.
    """
    height, width, channels = grid.shape[-3:]
    lead = grid.shape[:-3]
    on_board = jnp.ones(grid.shape[:-1] + (1,), grid.dtype)
    padded = jnp.pad(jnp.concatenate([grid, on_board], axis=-1),
                     [(0, 0)] * len(lead) + [(height - 1, height - 1), (width - 1, width - 1), (0, 0)])
    size = (2 * height - 1, 2 * width - 1, channels + 1)

    def crop(board, r, c):
        return jax.lax.dynamic_slice(board, (r, c, 0), size)

    flat = jax.vmap(crop)(padded.reshape((-1,) + padded.shape[-3:]), row.reshape(-1), col.reshape(-1))
    return flat.reshape(lead + size)


class EgoTower(nn.Module):
    """Dense layers over the grid re-centred on the player, joined with the player and program
    vectors: "the exit is two cells to my right" is then one input pattern wherever the player
    stands, where the flat MLP must learn it separately for each of the 36 cells."""

    layout: ObsLayout
    hidden_sizes: Sequence[int]
    activation: str

    @nn.compact
    def __call__(self, obs):
        """Return the last hidden layer's features."""
        act = ACTIVATIONS[self.activation]
        vector, grid = split_observation(obs, self.layout)
        ego = egocentric(grid, *self.layout.grid_position(obs))
        x = jnp.concatenate([ego.reshape(obs.shape[:-1] + (-1,)), vector], axis=-1)
        return _hidden_layers(x, self.hidden_sizes, act)


class ActorCritic(nn.Module):
    """Separate actor and critic towers; returns (logits[..., num_actions], value[...])."""

    num_actions: int
    layout: ObsLayout | None = None  # needed by the grid and ego towers
    kind: str = "mlp"
    hidden_sizes: Sequence[int] = (256, 256)
    activation: str = "tanh"
    conv_channels: Sequence[int] = (32, 32)

    def _tower(self):
        if self.kind == "grid":
            return GridTower(self.layout, self.hidden_sizes, self.conv_channels, self.activation)
        if self.kind == "ego":
            return EgoTower(self.layout, self.hidden_sizes, self.activation)
        return MLPTower(self.hidden_sizes, self.activation)

    @nn.compact
    def __call__(self, obs):
        """Return the policy logits and the state value for a batch of observations."""
        logits = _dense(self.num_actions, 0.01)(self._tower()(obs))
        value = _dense(1, 1.0)(self._tower()(obs))[..., 0]
        return logits, value


def make_network(network_config, num_actions: int, layout: ObsLayout | None = None) -> ActorCritic:
    """Build the actor-critic of the `network` config section for an env's actions and layout."""
    kind = network_config.kind
    if kind != "mlp" and layout is None:
        raise ConfigError(f"network.kind={kind} reads the grid of a structured observation, but "
                          f"the env describes none (no observation_layout()); use "
                          f"network.kind=mlp for this env")
    if kind == "ego" and not layout.position:
        raise ConfigError("network.kind=ego re-centres the grid on the player, but the env's "
                          "observation layout names no player position; use network.kind=grid "
                          "or mlp for this env")
    return ActorCritic(
        num_actions=num_actions,
        layout=layout,
        kind=network_config.kind,
        hidden_sizes=tuple(network_config.hidden_sizes),
        activation=network_config.activation,
        conv_channels=tuple(network_config.conv_channels),
    )
