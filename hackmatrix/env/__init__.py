"""The HackMatrix game in pure JAX: reset/step, observation, rewards, scenarios and the wrapper."""

from hackmatrix.env import constants, rng
from hackmatrix.env.mask import action_mask
from hackmatrix.env.observation import observe, observe_structured
from hackmatrix.env.params import EnvParams
from hackmatrix.env.registry import make
from hackmatrix.env.rewards import StepEvents, calculate_reward
from hackmatrix.env.scenario import load_scenario, scenario_from_state, state_from_scenario
from hackmatrix.env.state import EnvState
from hackmatrix.env.step import reset, step
from hackmatrix.env.step_info import StepInfo, action_shares
from hackmatrix.env.wrapper import HackMatrixEnv, WrapperState

__all__ = [
    "EnvParams",
    "EnvState",
    "HackMatrixEnv",
    "StepEvents",
    "StepInfo",
    "WrapperState",
    "action_mask",
    "action_shares",
    "calculate_reward",
    "constants",
    "load_scenario",
    "make",
    "observe",
    "observe_structured",
    "reset",
    "rng",
    "scenario_from_state",
    "state_from_scenario",
    "step",
]
