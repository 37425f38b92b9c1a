"""Actor-critic networks: an MLP over the flat observation, or a grid-aware convolutional one.

The actor and the critic are separate towers (no shared weights), as in the usual PPO setup for
small discrete games: the critic's large-return regression never distorts the policy features.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from hackmatrix.env.constants import GRID, GRID_CHANNELS, OBS_PLAYER, OBS_PROGRAMS

VECTOR_SIZE = OBS_PLAYER + OBS_PROGRAMS
ACTIVATIONS = {"tanh": nn.tanh, "relu": nn.relu}


def _dense(features, scale):
    return nn.Dense(features, kernel_init=nn.initializers.orthogonal(scale),
                    bias_init=nn.initializers.zeros)


class MLPTower(nn.Module):
    """Dense layers over the flat 1545-float observation."""

    hidden_sizes: Sequence[int]
    activation: str

    @nn.compact
    def __call__(self, obs):
        """Return the last hidden layer's features."""
        act = ACTIVATIONS[self.activation]
        x = obs
        for size in self.hidden_sizes:
            x = act(_dense(size, np.sqrt(2))(x))
        return x


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
        for size in self.hidden_sizes:
            x = act(_dense(size, np.sqrt(2))(x))
        return x


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
