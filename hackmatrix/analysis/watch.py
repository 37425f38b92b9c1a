"""Watching an agent play: the frames of a live episode, and their display in `hackmatrix play`'s
terminal renderer.

Choice: the live game runs on the reference engine (`hackmatrix.reference.Game`), which the
differential tests keep step-for-step identical to the JAX env, with the episode and step keys of
`hackmatrix.analysis.evaluate`. So `watch --seed S --episode i` shows exactly episode i of
`eval --seed S`, the board is drawn by the renderer of `hackmatrix play` without conversion, and
only the small policy network is compiled, never the env.
"""

import time

import jax
import numpy as np

from hackmatrix.analysis.evaluate import episode_key, reset_key, step_keys
from hackmatrix.analysis.policy import MODE_NAMES, action_probabilities, choose_action
from hackmatrix.analysis.replay import DECISION_KEYS
from hackmatrix.env.constants import NUM_STAGES, REWARD_KEYS
from hackmatrix.reference.game import Game
from hackmatrix.reference.play import ACTION_LABELS, reward_line
from hackmatrix.reference.render import CLEAR, screen
from hackmatrix.reference.scenario_read import from_scenario

TOP_ALTERNATIVES = 3
QUIT_KEYS = ("q", "Q", "\x03", "\x04")


def make_decider(network):
    """Return jitted `decide(params, obs, mask, key, mode) -> (action, probs[28], value)`."""

    @jax.jit
    def decide(params, obs, mask, key, mode):
        logits, value = network.apply(params, obs[None])
        action = choose_action(key, logits[0], mask, mode)
        return action, action_probabilities(logits[0], mask), value[0]

    return decide


def live_frames(policy, seed: int, episode: int, mode: int, max_steps: int):
    """Yield the frames of one episode as the agent plays it (see hackmatrix.analysis.replay).

    Frame t is yielded with the decision taken but before the step, so a viewer shows the board
    the agent sees; the step runs when the generator is resumed, which fills in `reward` and
    `breakdown`. The last frame (game over, won, or max_steps reached) has no decision.
    """
    decide = make_decider(policy.network)
    keys_of = jax.jit(step_keys)
    key = episode_key(seed, episode)
    game = Game.new(reset_key(key))
    t = 0
    while not game.done and t < max_steps:
        mask = game.action_mask()
        act_key, env_key = keys_of(key, t)
        action, probs, value = decide(policy.params, game.observe(), np.asarray(mask), act_key,
                                      mode)
        frame = {"t": t, "scenario": game.to_scenario(), "mask": list(mask),
                 "probs": [round(float(p), 6) for p in np.asarray(probs)],
                 "value": round(float(value), 6), "action": int(action),
                 "reward": None, "breakdown": None}
        yield frame
        reward, _, breakdown = game.step(env_key, int(action))
        frame["reward"] = float(reward)
        frame["breakdown"] = {k: float(breakdown[k]) for k in REWARD_KEYS}
        t += 1
    yield {"t": t, "scenario": game.to_scenario(), "mask": list(game.action_mask()),
           **dict.fromkeys(DECISION_KEYS)}


def finished_frames(frames: list) -> list:
    """Return the frames to record: the stepped ones, then the last state without a decision."""
    if frames and frames[-1]["reward"] is None:
        frames = frames[:-1] + [{**frames[-1], **dict.fromkeys(DECISION_KEYS)}]
    return frames


def decision_lines(frame: dict) -> list:
    """The agent's choice, its probability, the top alternatives and the value estimate."""
    probs = frame["probs"]
    action = frame["action"]
    others = sorted((a for a in range(len(probs)) if a != action and probs[a] > 0),
                    key=lambda a: -probs[a])[:TOP_ALTERNATIVES]
    alternatives = ", ".join(f"{ACTION_LABELS[a]} {probs[a]:.3f}" for a in others) or "none"
    return [(f"agent chooses {ACTION_LABELS[action]} (p {probs[action]:.3f})   value "
             f"estimate {frame['value']:+.3f}"),
            f"  alternatives: {alternatives}"]


def outcome_lines(frame: dict, totals: dict, episode_return: float, steps: int) -> list:
    """The end of the episode: how it ended and the return per reward component."""
    s = frame["scenario"]
    if s["won"]:
        outcome = f"VICTORY: all {NUM_STAGES} stages cleared, score {s['player']['score']}"
    elif s["done"]:
        outcome = f"GAME OVER on stage {s['stage']} (score {s['player']['score']})"
    else:
        outcome = f"stopped on stage {s['stage']} after {steps} steps"
    lines = [outcome, f"episode return {episode_return:+.2f} over {steps} steps:"]
    return lines + [f"  {k:22s} {v:+9.2f}" for k, v in totals.items()]


class WatchView:
    """Shows frames one by one: after a key press (step mode) or every `speed` seconds."""

    def __init__(self, out, keys=None, speed: float | None = None, colour: bool = True,
                 title: str = "", sleep=time.sleep):
        self.out, self.keys, self.speed = out, keys, speed
        self.colour, self.title, self.sleep = colour, title, sleep
        self.totals = {k: np.float32(0.0) for k in REWARD_KEYS}
        self.episode_return = np.float32(0.0)
        self.shown = []  # kept on the view, so that an interrupted watch can still be recorded

    def _draw(self, frame: dict, previous, footer: list) -> None:
        lines = [self.title, f"step {frame['t']}   episode return {float(self.episode_return):+.2f}"]
        if previous is not None:
            lines.append("last step " + reward_line(previous["action"], previous["reward"],
                                                    previous["breakdown"]))
        if frame["action"] is not None:
            lines += decision_lines(frame)
        else:
            lines += outcome_lines(frame, {k: float(v) for k, v in self.totals.items()},
                                   float(self.episode_return), frame["t"])
        text = screen(from_scenario(frame["scenario"]), frame["mask"], lines + footer,
                      self.colour)
        self.out.write((CLEAR if self.colour else "\f\n") + text)
        self.out.flush()

    def _wait(self) -> bool:
        """Pause before the next step; return False when the viewer quits."""
        if self.speed is not None:
            self.sleep(self.speed)
            return True
        key = self.keys.read(1) if self.keys is not None else ""
        return bool(key) and key not in QUIT_KEYS

    def run(self, frames) -> list:
        """Show every frame until the last one or until the viewer quits; return those shown."""
        footer = [] if self.speed is not None else ["any key: next step   q: quit"]
        previous = None
        for frame in frames:
            if previous is not None:
                for k in REWARD_KEYS:
                    self.totals[k] = np.float32(self.totals[k] + previous["breakdown"][k])
                self.episode_return = np.float32(self.episode_return + previous["reward"])
            self.shown.append(frame)
            last = frame["action"] is None
            self._draw(frame, previous, [] if last else footer)
            if last or not self._wait():
                break
            previous = frame
        return self.shown


def describe(meta: dict) -> str:
    """One title line naming the checkpoint, seed, episode and policy of a watched episode."""
    return (f"{meta.get('checkpoint', '?')} (update {meta.get('update', '?')})   seed "
            f"{meta.get('seed', '?')} episode {meta.get('episode', '?')}   "
            f"{meta.get('policy', MODE_NAMES[0])} policy")
