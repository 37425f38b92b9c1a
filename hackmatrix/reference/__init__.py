"""The plain-Python reference engine of docs/rules.md: a differential oracle, `hackmatrix play`."""

from hackmatrix.reference.game import Game

__all__ = ["Game"]
