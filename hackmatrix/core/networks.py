"""Actor-critic networks: an MLP over the flat observation, a grid-aware convolutional one, or an
MLP over the grid re-centred on the player (egocentric).

The actor and the critic are separate towers (no shared weights), as in the usual PPO setup for
small discrete games: the critic's large-return regression never distorts the policy features.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from hackmatrix.env.constants import GRID, GRID_CHANNELS, OBS_LAYOUT, OBS_PLAYER, OBS_PROGRAMS

VECTOR_SIZE = OBS_PLAYER + OBS_PROGRAMS
# The player's row and col features are row / (GRID - 1) and col / (GRID - 1) (rules §9).
_PLAYER_ROW = OBS_LAYOUT.vector_slice("player").start + OBS_LAYOUT.vector[0].labels.index("row")
_PLAYER_COL = OBS_LAYOUT.vector_slice("player").start + OBS_LAYOUT.vector[0].labels.index("col")
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
    """Dense layers over the flat 1545-float observation."""

    hidden_sizes: Sequence[int]
    activation: str

    @nn.compact
    def __call__(self, obs):
        """Return the last hidden layer's features."""
        return _hidden_layers(obs, self.hidden_sizes, ACTIVATIONS[self.activation])


def split_observation(obs):
    """Return (vector [..., 33], grid [..., 6, 6, 42]) of flat observations (rules §9 layout)."""
    vector = obs[..., :VECTOR_SIZE]
    grid = obs[..., VECTOR_SIZE:].reshape(obs.shape[:-1] + (GRID, GRID, GRID_CHANNELS))
    return vector, grid


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
    """3x3 convolutions over the 6x6x42 grid, joined with the player and program vectors."""

    hidden_sizes: Sequence[int]
    conv_channels: Sequence[int]
    activation: str

    @nn.compact
    def __call__(self, obs):
        """Return the last hidden layer's features."""
        act = ACTIVATIONS[self.activation]
        vector, grid = split_observation(obs)
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

    hidden_sizes: Sequence[int]
    activation: str

    @nn.compact
    def __call__(self, obs):
        """Return the last hidden layer's features."""
        act = ACTIVATIONS[self.activation]
        vector, grid = split_observation(obs)
        row = jnp.round(obs[..., _PLAYER_ROW] * (GRID - 1)).astype(jnp.int32)
        col = jnp.round(obs[..., _PLAYER_COL] * (GRID - 1)).astype(jnp.int32)
        ego = egocentric(grid, row, col)
        x = jnp.concatenate([ego.reshape(obs.shape[:-1] + (-1,)), vector], axis=-1)
        return _hidden_layers(x, self.hidden_sizes, act)


class ActorCritic(nn.Module):
    """Separate actor and critic towers; returns (logits[..., num_actions], value[...])."""

    num_actions: int
    kind: str = "mlp"
    hidden_sizes: Sequence[int] = (256, 256)
    activation: str = "tanh"
    conv_channels: Sequence[int] = (32, 32)

    def _tower(self):
        if self.kind == "grid":
            return GridTower(self.hidden_sizes, self.conv_channels, self.activation)
        if self.kind == "ego":
            return EgoTower(self.hidden_sizes, self.activation)
        return MLPTower(self.hidden_sizes, self.activation)

    @nn.compact
    def __call__(self, obs):
        """Return the policy logits and the state value for a batch of observations."""
        logits = _dense(self.num_actions, 0.01)(self._tower()(obs))
        value = _dense(1, 1.0)(self._tower()(obs))[..., 0]
        return logits, value


def make_network(network_config, num_actions: int) -> ActorCritic:
    """Build the actor-critic module of the `network` config section for an env's actions."""
    return ActorCritic(
        num_actions=num_actions,
        kind=network_config.kind,
        hidden_sizes=tuple(network_config.hidden_sizes),
        activation=network_config.activation,
        conv_channels=tuple(network_config.conv_channels),
    )
