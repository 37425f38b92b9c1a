"""Small helpers shared by the reference-engine tests."""

import jax
import numpy as np

from hackmatrix.env.constants import PROGRAM_ACTION_OFFSET, PROGRAM_NAMES
from hackmatrix.reference import Game


def make(**scenario) -> Game:
    """A reference game from scenario keywords (docs/scenarios.md)."""
    return Game.from_scenario(scenario)


def key(seed: int = 0):
    """A raw PRNG key."""
    return jax.random.PRNGKey(seed)


def act(game: Game, action: int, seed: int = 0):
    """Step `game` with `action` and the key of `seed`; return (reward, done, breakdown)."""
    return game.step(key(seed), action)


def prog(name: str) -> int:
    """The action index of a program name."""
    return PROGRAM_ACTION_OFFSET + PROGRAM_NAMES.index(name)


def nonzero(breakdown: dict) -> dict:
    """The non-zero components, rounded to 6 decimals."""
    return {k: round(float(v), 6) for k, v in breakdown.items() if v != 0}


def enemy(type_, row, col, **kw) -> dict:
    """An enemy entry."""
    return {"type": type_, "row": row, "col": col, **kw}


def positions(game: Game) -> list:
    """Enemy (type, row, col) in list order."""
    return [(e.type, e.row, e.col) for e in game.state.enemies]


def approx(x) -> float:
    """Round a float32 to 6 decimals for exact comparisons of hand-computed values."""
    return round(float(np.float32(x)), 6)
