"""The game as a gymnax 1.0 environment: auto-reset, truncation and episode statistics."""

import dataclasses
import functools

import jax
import jax.numpy as jnp
from flax import struct

from hackmatrix.env.constants import NUM_ACTIONS, OBS_LAYOUT, OBS_SIZE
from hackmatrix.env.curriculum import Curriculum, advance_start
from hackmatrix.env.generation import game_start, generate_stage
from hackmatrix.env.mask import action_mask as env_action_mask
from hackmatrix.env.obs_layout import ObsLayout
from hackmatrix.env.observation import observe
from hackmatrix.env.params import EnvParams
from hackmatrix.env.rewards import calculate_reward
from hackmatrix.env.spaces import box, discrete
from hackmatrix.env.sparse_apply import apply_where
from hackmatrix.env.state import EnvState
from hackmatrix.env.step import reset as env_reset
from hackmatrix.env.step import step_before_generation
from hackmatrix.env.step_info import StepInfo


@struct.dataclass
class WrapperState:
    """The game state plus the running return and length of the current episode."""

    env_state: EnvState
    episode_return: jnp.ndarray  # float32
    episode_length: jnp.ndarray  # int32
    # action_mask(env_state), computed once per step and shared by the policy (env.action_mask)
    # and the next step's validity check.
    action_mask: jnp.ndarray  # bool[28]


def _game_start(key, curriculum: Curriculum) -> EnvState:
    """The start of a new game before its first board, advanced by an enabled curriculum."""
    fresh = game_start(key)
    return advance_start(key, fresh, curriculum) if curriculum.enabled else fresh


def _generate(key_step, key_reset, reset, state: EnvState, curriculum: Curriculum) -> EnvState:
    """A new game from key_reset where `reset`, else the next stage of `state` from key_step."""
    fresh = _game_start(key_reset, curriculum)
    base = jax.tree.map(lambda a, b: jnp.where(reset, a, b), fresh, state)
    return generate_stage(jnp.where(reset, key_reset, key_step), base)


class HackMatrixEnv:
    """The HackMatrix game as a gymnax-style env; auto-resets on termination or truncation."""

    name = "HackMatrix-v0"
    num_actions = NUM_ACTIONS

    # Stateless, so all instances are equal: `reset` and `step`, jitted with a static `self` as
    # gymnax does it, compile once per params and shapes however many envs callers build.
    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(type(self))

    @property
    def default_params(self) -> EnvParams:
        """Return the default EnvParams."""
        return EnvParams()

    @functools.partial(jax.jit, static_argnames=("self",))
    def reset(self, key, params: EnvParams | None = None):
        """Start a new game; return (obs float32[1545], WrapperState)."""
        params = self.default_params if params is None else params
        if params.curriculum.enabled:
            env_state = generate_stage(key, _game_start(key, params.curriculum))
            obs = observe(env_state)
        else:
            obs, env_state = env_reset(key, params)
        return obs, WrapperState(env_state=env_state, episode_return=jnp.float32(0.0),
                                 episode_length=jnp.int32(0),
                                 action_mask=env_action_mask(env_state))

    @functools.partial(jax.jit, static_argnames=("self",))
    def step(self, key, state: WrapperState, action, params: EnvParams | None = None):
        """Step and auto-reset (gymnax 1.0): (obs, state, reward, terminated, truncated, info).

        On terminated or truncated the returned obs/state are a fresh game reset from a key split
        off `key`. `info` is a dict: the `StepInfo` fields (the 15 reward components under
        `rewards`, episode statistics, ...), `final_observation` (the observation before the
        reset) and `action_mask` (bool[28], valid actions of the returned state).
        """
        obs, next_state, reward, _, step_info, final = self.step_with_final(
            key, state, action, params)
        info = {field.name: getattr(step_info, field.name)
                for field in dataclasses.fields(step_info)}
        info["final_observation"] = observe(final)
        info["action_mask"] = next_state.action_mask
        return obs, next_state, reward, step_info.terminated, step_info.truncated, info

    def step_with_final(self, key, state: WrapperState, action,
                        params: EnvParams | None = None):
        """Step and auto-reset; return (obs, state, reward, done, info: StepInfo, final EnvState).

        The trainer's step: `done` is terminated or truncated, and `final` is the EnvState the
        step reached before any auto-reset.

        A trainer bootstraps a truncated episode from `observe(final)`. Where the truncating step
        also cleared a stage, `final` still shows the cleared board (stage + 1, healed): the next
        board is generated together with the auto-reset, and for the reset game only.
        """
        params = self.default_params if params is None else params
        key_step, key_reset = jax.random.split(key)
        env_state, events, new_stage = step_before_generation(
            key_step, state.env_state, action, state.action_mask)
        reward, breakdown = calculate_reward(state.env_state, env_state, events)
        terminated = env_state.done
        episode_return = state.episode_return + reward
        episode_length = state.episode_length + 1
        truncated = ~terminated & (episode_length >= params.max_steps_in_episode)
        finished = terminated | truncated
        info = StepInfo(
            rewards=breakdown, reward=reward, terminated=terminated, truncated=truncated,
            stage=env_state.stage, score=env_state.player.score, hp=env_state.player.hp,
            episode_return=episode_return, episode_length=episode_length,
            episode_final_stage=env_state.stage, episode_won=env_state.won,
        )
        # One generation per step serves both the next stage and the auto-reset, and runs only
        # for the environments that need it (see sparse_apply).
        next_state = apply_where(
            new_stage | finished, functools.partial(_generate, curriculum=params.curriculum),
            (key_step, key_reset, finished, env_state), env_state)
        next_state = WrapperState(
            env_state=next_state,
            episode_return=jnp.where(finished, jnp.float32(0.0), episode_return),
            episode_length=jnp.where(finished, jnp.int32(0), episode_length),
            action_mask=env_action_mask(next_state),
        )
        return observe(next_state.env_state), next_state, reward, finished, info, env_state

    def observe(self, env_state: EnvState) -> jnp.ndarray:
        """Return the float32[1545] observation of a bare EnvState (e.g. a final one)."""
        return observe(env_state)

    def action_mask(self, state) -> jnp.ndarray:
        """Return bool[28] valid actions of a WrapperState (cached) or a bare EnvState."""
        if isinstance(state, WrapperState):
            return state.action_mask
        return env_action_mask(state)

    def action_space(self, params: EnvParams | None = None):
        """Return the 28-action discrete space (gymnax's class when installed)."""
        del params
        return discrete(NUM_ACTIONS)

    def observation_space(self, params: EnvParams | None = None):
        """Return the float32[1545] observation space (features lie in [0, inf), mostly [0, 1])."""
        del params
        return box(0.0, jnp.inf, (OBS_SIZE,))

    def observation_layout(self, params: EnvParams | None = None) -> ObsLayout:
        """Return the named groups of the flat observation (vector slices, grid channels)."""
        del params
        return OBS_LAYOUT
