"""A structured description of a flat observation: named vector groups, then a grid of channels.

Networks and analysis read the layout instead of hard-wiring offsets: `split` cuts a flat
observation into its named parts, `vector_slice` / `channel_slice` locate one group,
`grid_position` reads the player's cell. The game's
own layout is `constants.OBS_LAYOUT` (rules §9), built from the enemy and program tables.
"""

from dataclasses import dataclass

import jax.numpy as jnp


@dataclass(frozen=True)
class Group:
    """A named run of consecutive features; `labels` names each feature of the run."""

    name: str
    labels: tuple

    @property
    def size(self) -> int:
        """Number of features in the group."""
        return len(self.labels)


def single(name: str) -> Group:
    """A one-feature group labelled by its own name."""
    return Group(name, (name,))


def _slices(groups) -> dict:
    """Return {group name: slice} of consecutive groups starting at 0."""
    out, start = {}, 0
    for g in groups:
        out[g.name] = slice(start, start + g.size)
        start += g.size
    return out


@dataclass(frozen=True)
class ObsLayout:
    """The flat observation: the `vector` groups, then a row-major [rows, cols, channels] grid.

    `position` names the vector features (group, row label, col label) that hold the player's
    cell as row / (rows - 1) and col / (cols - 1); empty when the observation has no player cell.
    """

    vector: tuple
    grid_shape: tuple
    channels: tuple
    position: tuple = ()

    def __post_init__(self):
        names = [g.name for g in self.vector + self.channels]
        if len(set(names)) != len(names):
            raise ValueError(f"observation layout: group names must be unique, got {names}")

    @property
    def vector_size(self) -> int:
        """Number of features before the grid."""
        return sum(g.size for g in self.vector)

    @property
    def grid_channels(self) -> int:
        """Number of channels per grid cell."""
        return sum(g.size for g in self.channels)

    @property
    def grid_offset(self) -> int:
        """Index of the first grid feature in the flat observation."""
        return self.vector_size

    @property
    def size(self) -> int:
        """Length of the flat observation."""
        rows, cols = self.grid_shape
        return self.vector_size + rows * cols * self.grid_channels

    def vector_slice(self, name: str) -> slice:
        """Slice of the vector group `name` in the flat observation."""
        return self._find(_slices(self.vector), name, "vector")

    def channel_slice(self, name: str) -> slice:
        """Slice of the channel group `name` along the grid's last axis."""
        return self._find(_slices(self.channels), name, "channel")

    @staticmethod
    def _find(slices: dict, name: str, what: str) -> slice:
        if name not in slices:
            raise KeyError(f"no {what} group {name!r} in the observation layout; "
                           f"use one of {sorted(slices)}")
        return slices[name]

    def feature_index(self, group: str, label: str) -> int:
        """Index in the flat observation of the vector feature `label` of group `group`."""
        labels = {g.name: g.labels for g in self.vector}.get(group, ())
        if label not in labels:
            raise KeyError(f"no feature {label!r} in the vector group {group!r} of the "
                           f"observation layout")
        return self.vector_slice(group).start + labels.index(label)

    def grid_position(self, obs):
        """Return the player's (row, col) as int32 arrays [...] of flat observations [..., size]."""
        if not self.position:
            raise ValueError("this observation layout names no player position; networks that "
                             "re-centre the grid on the player need one")
        group, row_label, col_label = self.position
        cells = []
        for label, extent in ((row_label, self.grid_shape[0]), (col_label, self.grid_shape[1])):
            scaled = obs[..., self.feature_index(group, label)] * (extent - 1)
            cells.append(jnp.round(scaled).astype(jnp.int32))
        return tuple(cells)

    def split(self, obs) -> dict:
        """Cut flat observations [..., size] into {vector group: [..., n], "grid": [..., r, c, ch]}.

        Works on numpy and JAX arrays alike (slicing and a reshape only).
        """
        if obs.shape[-1] != self.size:
            raise ValueError(f"observation has {obs.shape[-1]} features, the layout {self.size}; "
                             "pass the flat observation of the env that gave this layout")
        parts = {name: obs[..., s] for name, s in _slices(self.vector).items()}
        parts["grid"] = obs[..., self.grid_offset:].reshape(
            obs.shape[:-1] + tuple(self.grid_shape) + (self.grid_channels,))
        return parts

    def describe(self) -> dict:
        """Plain-data form (JSON-ready): every group with its offset, size and labels."""

        def rows(groups):
            return [{"name": g.name, "start": s.start, "size": g.size, "labels": list(g.labels)}
                    for g, s in zip(groups, _slices(groups).values())]

        return {"size": self.size, "vector": rows(self.vector), "grid_offset": self.grid_offset,
                "grid_shape": list(self.grid_shape), "channels": rows(self.channels),
                "position": list(self.position)}
