"""Exceptions that name the problem and the fix; every user-facing error derives from these."""


class HackmatrixError(Exception):
    """Base class of all hackmatrix errors."""


class ConfigError(HackmatrixError, ValueError):
    """A wrong key, type or value in config.yaml or an override."""


class ScenarioError(HackmatrixError, ValueError):
    """A malformed, out-of-range or contradictory scenario."""


class CheckpointError(HackmatrixError):
    """A corrupt, missing or incompatible checkpoint."""


class SinkError(HackmatrixError):
    """An unknown sink, a sink whose extra is missing, or a sink that failed to open."""
