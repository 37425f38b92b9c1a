"""`hackmatrix play`: a human plays the reference engine in the terminal.

The input is any text stream read one character at a time (arrow keys arrive as ANSI escape
sequences), so tests drive a session with a scripted stream and read the screen it writes.
"""

import argparse
import contextlib
import json
import os
import sys

import jax
import numpy as np
import yaml

from hackmatrix.env.constants import (
    ACTION_NAMES,
    DIRECTION_NAMES,
    NUM_PROGRAMS,
    PROGRAM_ACTION_OFFSET,
    PROGRAM_NAMES,
    REWARD_KEYS,
    SIPHON_ACTION,
)
from hackmatrix.errors import ScenarioError
from hackmatrix.reference.game import Game
from hackmatrix.reference.render import CLEAR, PROGRAM_KEYS, screen

DIRECTION_KEYS = {**dict(zip("wsad", range(4))), **{n: i for i, n in enumerate(DIRECTION_NAMES)}}
ARROWS = {"A": "UP", "B": "DOWN", "C": "RIGHT", "D": "LEFT"}
ACTION_KEYS = {**DIRECTION_KEYS, "x": SIPHON_ACTION,
               **{k: PROGRAM_ACTION_OFFSET + i for i, k in enumerate(PROGRAM_KEYS)}}
QUIT_KEYS = ("q", "\x03", "\x04")  # q, Ctrl-C, Ctrl-D
HELP = [
    "keys: arrows or W A S D move / attack    x siphon    ? help    q quit",
    "programs: " + "  ".join(f"{PROGRAM_KEYS[i]} {PROGRAM_NAMES[i]}" for i in range(12)),
    "          " + "  ".join(f"{PROGRAM_KEYS[i]} {PROGRAM_NAMES[i]}"
                             for i in range(12, NUM_PROGRAMS)),
    "undo is the UNDO program (u): it needs the program, 1 credit and a recorded enemy turn.",
]
# The readable action names, as the analysis renderer also shows them.
ACTION_LABELS = ACTION_NAMES


def read_keys(stream):
    """Yield key names from a character stream: single characters, or UP/DOWN/LEFT/RIGHT."""
    while True:
        ch = stream.read(1)
        if not ch:
            return
        if ch == "\x1b":
            seq = stream.read(2)
            if len(seq) == 2 and seq[0] in "[O" and seq[1] in ARROWS:
                yield ARROWS[seq[1]]
                continue
            yield "ESC"
            continue
        if ch in "\r\n":
            continue
        yield ch


def reward_line(action: int, reward, breakdown: dict) -> str:
    """'LABEL: reward r (component v, ...)' with the non-zero components."""
    parts = ", ".join(f"{k} {float(v):+.2f}" for k, v in breakdown.items() if v != 0)
    return f"{ACTION_LABELS[action]}: reward {float(reward):+.2f} ({parts})"


class PlaySession:
    """One interactive game: keys in, screens out, reward totals kept per component."""

    def __init__(self, game: Game, seed: int, out, colour: bool = True):
        self.game = game
        self.out = out
        self.colour = colour
        self.key = jax.random.PRNGKey(seed)
        self.seed = seed
        self.t = 0
        self.totals = {k: np.float32(0.0) for k in REWARD_KEYS}
        self.total = np.float32(0.0)
        self.message = [f"seed {seed}. Press ? for help."]

    def draw(self) -> None:
        """Write the current screen."""
        text = screen(self.game.state, self.game.action_mask(), self.message, self.colour)
        self.out.write((CLEAR if self.colour else "\f\n") + text)
        self.out.flush()

    def handle(self, key: str) -> bool:
        """Apply one key; return False when the session should end."""
        if key in QUIT_KEYS:
            self.message = ["you quit."]
            return False
        if key == "?":
            self.message = list(HELP)
            return True
        if key not in ACTION_KEYS:
            self.message = [f"unknown key {key!r}: press ? for help"]
            return True
        action = ACTION_KEYS[key]
        if not self.game.action_mask()[action]:
            self.message = [f"{ACTION_LABELS[action]} is not possible now"]
            return True
        self.t += 1
        reward, done, breakdown = self.game.step(jax.random.fold_in(self.key, self.t), action)
        for k in REWARD_KEYS:
            self.totals[k] = np.float32(self.totals[k] + breakdown[k])
        self.total = np.float32(self.total + reward)
        self.message = [reward_line(action, reward, breakdown)]
        return not done

    def result_lines(self) -> list:
        """The end screen text: the outcome and the episode's totals per component."""
        s = self.game.state
        if s.won:
            outcome = f"VICTORY: all 8 stages cleared, score {s.player.score}"
        elif s.player.hp == 0:
            outcome = f"GAME OVER: you died on stage {s.stage} (score {s.player.score})"
        else:
            outcome = f"game left on stage {s.stage} after {self.t} actions"
        lines = [outcome, f"episode reward {float(self.total):+.2f} over {self.t} steps:"]
        lines += [f"  {k:22s} {float(v):+9.2f}" for k, v in self.totals.items()]
        return lines

    def run(self, keys) -> dict:
        """Play until the game ends, the keys run out or the player quits; return the totals."""
        self.draw()
        for key in keys:
            going = self.handle(key)
            self.draw()
            if not going:
                break
        self.message += self.result_lines()
        self.draw()
        return dict(self.totals)


@contextlib.contextmanager
def single_keys(stream):
    """Read single key presses from a terminal (no line buffering, no echo); no-op otherwise."""
    if not (hasattr(stream, "isatty") and stream.isatty()):
        yield
        return
    import termios
    import tty

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def load_scenario_file(path: str) -> dict:
    """Read a YAML or JSON scenario file into a mapping (ScenarioError when unreadable)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as err:
        raise ScenarioError(f"cannot read scenario file {path}: {err}") from err
    return {} if data is None else data


def _seed(text: str) -> int:
    """A --seed value: an integer that fits the game's 64-bit seed."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if not 0 <= seed < 2**63:
        raise argparse.ArgumentTypeError(f"must be in [0, 2^63), got {seed}")
    return seed


def start_game(seed: int, scenario_path) -> Game:
    """The game to play: a scenario file, or a new game from the seed."""
    if scenario_path:
        return Game.from_scenario(load_scenario_file(scenario_path))
    return Game.new(jax.random.PRNGKey(seed))


def main(args, stdin=None, stdout=None) -> int:
    """Entry point of `hackmatrix play` (streams injectable for tests)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "little")
    game = start_game(seed, args.scenario)
    colour = not args.no_colour
    session = PlaySession(game, seed, stdout, colour)
    with single_keys(stdin):
        try:
            session.run(read_keys(stdin))
        except KeyboardInterrupt:
            session.message = ["interrupted."] + session.result_lines()
            session.draw()
    return 0


def register(subparsers) -> None:
    """Add the `play` subcommand."""
    parser = subparsers.add_parser(
        "play", help="play HackMatrix in the terminal",
        description="Play HackMatrix in the terminal (the reference engine). Arrows or WASD "
                    "move or attack, x siphons, one key per program, ? shows help, q quits.")
    parser.add_argument("--seed", type=_seed, default=None,
                        help="start a new game from this seed (default: random, shown on screen)")
    parser.add_argument("--scenario", metavar="FILE", default=None,
                        help="start from a scenario file (YAML or JSON, docs/scenarios.md)")
    parser.add_argument("--no-colour", "--no-color", dest="no_colour", action="store_true",
                        help="plain text without ANSI colours")
    parser.set_defaults(func=main)
