"""The population a run trains in one program: its members, each a seed and PPO hyperparameters.

A plain run is a population of one member; a seed group (`run.seeds`) one member per seed; a
sweep (`hackmatrix sweep`) one per point and seed. Every member shares the program (shapes and
static settings) and differs only in its PRNG seed and the traced hyperparameters
(`hackmatrix.core.update.TRACED`), which the chunk takes as a (members,) array each.
"""

import dataclasses

import numpy as np

from hackmatrix.core.config import is_multi_seed, seed_list
from hackmatrix.core.update import hparams_of


@dataclasses.dataclass(frozen=True)
class Member:
    """One run of a population."""

    label: str  # its sub-run name and directory, e.g. "seed-3" or "p002-seed-3"
    seed: int
    hparams: dict  # TRACED name -> value
    config: dict | None = None  # its flat config for the sinks; None: the run's, with run.seed


@dataclasses.dataclass(frozen=True)
class Population:
    """The members of a run and how their sinks are grouped."""

    members: tuple
    grouped: bool  # each member its own sub-run; False only for a plain one-member run
    group: str | None = None  # the sinks' group name; None: the run directory's name
    group_id: str | None = None  # the sinks' stable group id; None: the run's id

    @property
    def seeds(self) -> tuple:
        """The seed of each member."""
        return tuple(member.seed for member in self.members)


def seed_label(seed: int) -> str:
    """Return the label of the member of a seed group that trains `seed`."""
    return f"seed-{seed}"


def seed_population(config) -> Population:
    """Return the population of a training config: one member per seed of `run.seeds`."""
    hparams = hparams_of(config)
    members = tuple(Member(seed_label(seed), seed, hparams) for seed in seed_list(config))
    return Population(members, grouped=is_multi_seed(config))


def stacked_hparams(population: Population) -> dict:
    """Return {name: float32[members]} of the members' traced hyperparameters (chunk input)."""
    names = population.members[0].hparams
    return {name: np.asarray([m.hparams[name] for m in population.members], np.float32)
            for name in names}
