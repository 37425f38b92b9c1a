"""Static environment parameters of the gymnax-style wrapper."""

from flax import struct

from hackmatrix.env.curriculum import Curriculum


@struct.dataclass
class EnvParams:
    """Wrapper parameters; static fields (part of the pytree structure, never traced).

    `max_steps_in_episode` is a truncation bound of the wrapper only: the game itself has no step
    limit (rules §9). 5000 is far beyond a normal episode (a won game takes a few
    hundred steps) but stops endless CALM + dithering loops from stalling a rollout.
    """

    max_steps_in_episode: int = struct.field(pytree_node=False, default=5000)
    # Training-only start states (env/curriculum.py); off by default, never used by evaluation.
    curriculum: Curriculum = struct.field(pytree_node=False, default=Curriculum())
