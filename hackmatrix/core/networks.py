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


class GridTower(nn.Module):
    """3x3 convolutions over the 6x6x42 grid, joined with the player and program vectors."""

    hidden_sizes: Sequence[int]
    conv_channels: Sequence[int]
    activation: str

    @nn.compact
    def __call__(self, obs):
        """Return the last hidden layer's features."""
        act = ACTIVATIONS[self.activation]
        vector = obs[..., :VECTOR_SIZE]
        grid = obs[..., VECTOR_SIZE:].reshape(obs.shape[:-1] + (GRID, GRID, GRID_CHANNELS))
        for channels in self.conv_channels:
            grid = act(nn.Conv(channels, (3, 3), padding="SAME",
                               kernel_init=nn.initializers.orthogonal(np.sqrt(2)))(grid))
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
