"""Step-by-step differential testing of the JAX engine (hackmatrix.env) against the reference.

Games run side by side: the JAX engine batched (one jitted, vmapped step for all slots), the
reference per game in Python. After every step the full state (as a scenario), observation, mask,
done flag, reward and all 15 components are compared; a finished game's slot takes the next start.
"""

import json
from collections import Counter
from dataclasses import dataclass, field

import jax
import numpy as np

from hackmatrix.env import (
    action_mask,
    observe,
    reset,
    scenario_from_state,
    state_from_scenario,
    step,
)
from hackmatrix.env.constants import (
    ACTION_NAMES,
    NUM_ACTIONS,
    PROGRAM_ACTION_OFFSET,
    REWARD_KEYS,
)
from hackmatrix.reference.game import Game

TOLERANCE = 1e-5
MAX_REPORTED = 5


@dataclass
class Start:
    """One game to play: `seed` names it and seeds its keys and actions; `scenario` or a reset."""

    seed: int
    scenario: dict = None
    label: str = "reset"


@dataclass
class Coverage:
    """How often each action was taken and each reward component was non-zero."""

    games: int = 0
    steps: int = 0
    actions: Counter = field(default_factory=Counter)
    components: Counter = field(default_factory=Counter)

    def missing(self) -> list:
        """Actions and components never exercised."""
        return ([f"action {a} ({ACTION_NAMES[a]})" for a in range(NUM_ACTIONS)
                 if not self.actions[a]]
                + [f"component {k}" for k in REWARD_KEYS if not self.components[k]])

    def summary(self) -> str:
        """A readable table of the counts."""
        lines = [f"{self.games} games, {self.steps} steps", "actions:"]
        lines += [f"  {a:2d} {ACTION_NAMES[a]:7s} {self.actions[a]}" for a in range(NUM_ACTIONS)]
        lines.append("reward components (non-zero):")
        lines += [f"  {k:22s} {self.components[k]}" for k in REWARD_KEYS]
        return "\n".join(lines)


def scenario_diff(jax_side, ref_side, path: str = "") -> list:
    """Return readable 'path: jax=.. ref=..' lines where two scenario values differ."""
    if isinstance(jax_side, dict) and isinstance(ref_side, dict):
        out = []
        for k in sorted(set(jax_side) | set(ref_side), key=str):
            sub = f"{path}.{k}" if path else str(k)
            if k not in jax_side or k not in ref_side:
                out.append(f"{sub}: jax={jax_side.get(k, '<missing>')!r} "
                           f"ref={ref_side.get(k, '<missing>')!r}")
            else:
                out += scenario_diff(jax_side[k], ref_side[k], sub)
        return out
    if isinstance(jax_side, list) and isinstance(ref_side, list):
        out = []
        for i in range(max(len(jax_side), len(ref_side))):
            sub = f"{path}[{i}]"
            if i >= len(jax_side) or i >= len(ref_side):
                out.append(f"{sub}: jax={jax_side[i] if i < len(jax_side) else '<none>'!r} "
                           f"ref={ref_side[i] if i < len(ref_side) else '<none>'!r}")
            else:
                out += scenario_diff(jax_side[i], ref_side[i], sub)
        return out
    if jax_side != ref_side or type(jax_side) is not type(ref_side):
        return [f"{path}: jax={jax_side!r} ref={ref_side!r}"]
    return []


class JaxSide:
    """The JAX engine, jitted: vmapped reset and step (+ mask) over `batch` slots."""

    def __init__(self, batch: int):
        def one_step(key, state, action):
            new, obs, reward, done, breakdown = step(key, state, action)
            return new, obs, reward, done, breakdown, action_mask(new)

        def one_reset(key):
            obs, state = reset(key)
            return state, obs, action_mask(state)

        self.batch = batch
        self.step = jax.jit(jax.vmap(one_step))
        self.reset = jax.jit(jax.vmap(one_reset))
        self.mask = jax.jit(action_mask)
        self.observe = jax.jit(observe)


def _host(tree):
    return jax.tree.map(np.array, jax.device_get(tree))


def _slot(tree, i):
    return jax.tree.map(lambda x: x[i], tree)


def _set_slot(tree, i, value) -> None:
    jax.tree.map(lambda dst, src: dst.__setitem__(i, src), tree, value)


class _Game:
    """One running game: its start, reference engine, action stream and step count."""

    def __init__(self, start: Start, ref: Game):
        self.start = start
        self.ref = ref
        self.actions = np.random.RandomState(start.seed % (2**32))
        self.key = np.asarray(jax.random.PRNGKey(start.seed))
        self.t = 0
        self.prev_scenario = ref.to_scenario()
        self.mask = None  # the JAX engine's mask of the current state, set once compared

    def choose(self, mask) -> int:
        """A random valid action; 40% of the time among directions and SIPHON only."""
        valid = np.flatnonzero(mask)
        basic = valid[valid < PROGRAM_ACTION_OFFSET]
        if len(basic) and self.actions.rand() < 0.4:
            return int(basic[self.actions.randint(len(basic))])
        return int(valid[self.actions.randint(len(valid))])


_fold = jax.jit(jax.vmap(jax.random.fold_in))


def _reference_start(start: Start) -> Game:
    if start.scenario is None:
        return Game.new(jax.random.PRNGKey(start.seed))
    return Game.from_scenario(start.scenario)


def _describe(game: _Game, action, problems: list) -> str:
    head = (f"game seed={game.start.seed} ({game.start.label}), step {game.t}, "
            + ("initial state" if action is None
               else f"action {action} ({ACTION_NAMES[action]})"))
    before = json.dumps(game.prev_scenario, separators=(",", ":"))
    return "\n".join([head] + [f"  {p}" for p in problems]
                     + [f"  state before the step (scenario): {before}"])


def _compare(jax_out: dict, game: _Game, ref_out: dict) -> list:
    """Return the list of differences between the two engines after one step (or a start)."""
    problems = []
    if list(jax_out["mask"]) != list(ref_out["mask"]):
        diff = [a for a in range(NUM_ACTIONS) if bool(jax_out["mask"][a]) != ref_out["mask"][a]]
        problems.append("mask differs at " + ", ".join(
            f"{a} ({ACTION_NAMES[a]}): jax={bool(jax_out['mask'][a])}" for a in diff))
    obs_j, obs_r = np.asarray(jax_out["obs"]), ref_out["obs"]
    bad = np.flatnonzero(np.abs(obs_j - obs_r) > TOLERANCE)
    if len(bad):
        problems.append("observation differs at " + ", ".join(
            f"[{i}] jax={obs_j[i]:.6g} ref={obs_r[i]:.6g}" for i in bad[:12]))
    if "reward" in ref_out:
        if bool(jax_out["done"]) != ref_out["done"]:
            problems.append(f"done: jax={bool(jax_out['done'])} ref={ref_out['done']}")
        for k in REWARD_KEYS:
            if abs(float(jax_out["breakdown"][k]) - float(ref_out["breakdown"][k])) > TOLERANCE:
                problems.append(f"reward component {k}: jax={float(jax_out['breakdown'][k]):.6g}"
                                f" ref={float(ref_out['breakdown'][k]):.6g}")
        if abs(float(jax_out["reward"]) - float(ref_out["reward"])) > TOLERANCE:
            problems.append(f"reward: jax={float(jax_out['reward']):.6g} "
                            f"ref={float(ref_out['reward']):.6g}")
    problems += [f"state {line}" for line in scenario_diff(jax_out["scenario"],
                                                           ref_out["scenario"])]
    return problems


def run(starts: list, max_steps: int = 300, batch: int = 32, jax_side: JaxSide = None) -> tuple:
    """Play every start in both engines; return (coverage, list of mismatch reports)."""
    side = jax_side or JaxSide(batch)
    batch = side.batch
    pending = list(starts)
    reports = []
    coverage = Coverage()
    slots = [None] * batch
    states = None

    def refill(slot_ids):
        nonlocal states
        chosen = [(i, pending.pop(0)) for i in slot_ids if pending]
        if not chosen:
            return
        reset_keys = np.stack([np.asarray(jax.random.PRNGKey(s.seed)) for _, s in chosen]
                              + [np.asarray(jax.random.PRNGKey(0))] * (batch - len(chosen)))
        resets = None
        if any(s.scenario is None for _, s in chosen):
            resets = _host(side.reset(reset_keys))
        for j, (i, start) in enumerate(chosen):
            if start.scenario is None:
                state, obs, mask = (_slot(x, j) for x in resets)
            else:
                state = _host(state_from_scenario(start.scenario))
                obs, mask = np.asarray(side.observe(state)), np.asarray(side.mask(state))
            if states is None:
                states = jax.tree.map(lambda x: np.stack([x] * batch), state)
            _set_slot(states, i, state)
            game = _Game(start, _reference_start(start))
            coverage.games += 1
            problems = _compare({"mask": mask, "obs": obs, "scenario": scenario_from_state(state)},
                                game, {"mask": game.ref.action_mask(), "obs": game.ref.observe(),
                                       "scenario": game.prev_scenario})
            if problems:
                reports.append(_describe(game, None, problems))
                continue
            game.mask = mask
            slots[i] = game

    refill(range(batch))
    while any(slots) and len(reports) < MAX_REPORTED:
        live = [i for i in range(batch) if slots[i] is not None]
        actions = np.zeros(batch, np.int32)
        steps = np.zeros(batch, np.uint32)
        base_keys = np.stack([slots[i].key if slots[i] else np.zeros(2, np.uint32)
                              for i in range(batch)])
        for i in live:
            actions[i] = slots[i].choose(slots[i].mask)
            steps[i] = slots[i].t + 1
        step_keys = np.asarray(_fold(base_keys, steps))
        out = _host(side.step(step_keys, states, actions))
        states = out[0]
        finished = []
        for i in live:
            game, action = slots[i], int(actions[i])
            reward, done, breakdown = game.ref.step(step_keys[i], action)
            game.t += 1
            coverage.steps += 1
            coverage.actions[action] += 1
            coverage.components.update(k for k in REWARD_KEYS if breakdown[k] != 0)
            scenario = game.ref.to_scenario()
            jax_out = {"obs": out[1][i], "reward": out[2][i], "done": out[3][i],
                       "breakdown": {k: v[i] for k, v in out[4].items()}, "mask": out[5][i],
                       "scenario": scenario_from_state(_slot(states, i))}
            ref_out = {"obs": game.ref.observe(), "reward": reward, "done": done,
                       "breakdown": breakdown, "mask": game.ref.action_mask(),
                       "scenario": scenario}
            problems = _compare(jax_out, game, ref_out)
            if problems:
                reports.append(_describe(game, action, problems))
                finished.append(i)
                continue
            game.prev_scenario, game.mask = scenario, out[5][i]
            if done or game.t >= max_steps:
                finished.append(i)
        for i in finished:
            slots[i] = None
        refill(finished)
    return coverage, reports
