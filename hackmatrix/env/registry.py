"""`make(env_id)`: the game by name, as `gymnax.make` does it, returning (env, params)."""

import dataclasses

from hackmatrix.env.legacy_step import LegacyStepEnv
from hackmatrix.env.params import EnvParams
from hackmatrix.env.wrapper import HackMatrixEnv

# Each id's env factory; `-legacy` is the 5-value step of gymnax before 1.0 (e.g. for rejax).
ENVS = {"HackMatrix-v0": HackMatrixEnv,
        "HackMatrix-legacy-v0": lambda: LegacyStepEnv(HackMatrixEnv())}


def make(env_id: str, **params):
    """Return (env, params) for a registered id; keyword arguments set EnvParams fields."""
    if env_id not in ENVS:
        raise ValueError(f"unknown environment id '{env_id}'; registered: "
                         f"{', '.join(sorted(ENVS))}")
    fields = {field.name for field in dataclasses.fields(EnvParams)}
    unknown = sorted(set(params) - fields)
    if unknown:
        raise ValueError(f"unknown EnvParams field(s) {', '.join(unknown)} for make('{env_id}'); "
                         f"allowed: {', '.join(sorted(fields))}")
    env = ENVS[env_id]()
    return env, dataclasses.replace(env.default_params, **params)
