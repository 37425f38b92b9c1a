"""The plain-Python reference engine of GAME_RULES.md: a differential oracle and `hackmatrix play`."""

from hackmatrix.reference.game import Game

__all__ = ["Game"]
