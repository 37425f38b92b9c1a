"""`hackmatrix watch CHECKPOINT`: the trained agent plays in the terminal, step by step or at a
set speed, showing its choice, the probability, the top alternatives, the value estimate and the
reward breakdown of every step; or `hackmatrix watch --replay FILE` plays a recording back.
`--record FILE` writes a replay and `--gif FILE` an animated GIF of the frames shown."""

import argparse
import sys

from hackmatrix.errors import ConfigError
from hackmatrix.reference.play import single_keys

EPILOG = """examples:
  hackmatrix watch runs/ppo-001                      # any key: next step, q: quit
  hackmatrix watch runs/ppo-001 --speed 0.3 --seed 4 --episode 2 --record game.json
  hackmatrix watch --replay game.json                # no network, no JAX compilation
  hackmatrix watch runs/ppo-001 --speed 0 --gif episode.gif   # the whole episode as a GIF
  hackmatrix watch --replay game.json --speed 0 --gif episode.gif
"""


def register(subparsers) -> None:
    """Add the `watch` sub-command to the hackmatrix command line."""
    parser = subparsers.add_parser(
        "watch", help="watch a trained agent play (or play a recorded episode back)",
        description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", metavar="CHECKPOINT", nargs="?",
                        help="a checkpoint file, a run directory (its newest checkpoint), or a "
                             "policy exported by hackmatrix export")
    parser.add_argument("--replay", metavar="FILE", help="play back a file written by --record")
    parser.add_argument("--record", metavar="FILE",
                        help="write the episode to a replay file (.gz: compressed)")
    parser.add_argument("--gif", metavar="FILE",
                        help="write the frames shown as an animated GIF (with --speed 0: the "
                             "whole episode at once)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the episode, as in hackmatrix eval (0)")
    parser.add_argument("--episode", type=int, default=0,
                        help="which episode of that seed: episode i of `hackmatrix eval --seed` "
                             "(0)")
    parser.add_argument("--best", action="store_true",
                        help="use the run's best checkpoint (checkpoints/best.ckpt, kept by "
                             "evaluation during training) instead of its newest")
    parser.add_argument("--seed-index", type=int, default=0, metavar="I",
                        help="which seed of a multi-seed run (run.seeds): index I into its seed "
                             "list (0)")
    parser.add_argument("--policy", choices=("greedy", "sample"), default="greedy",
                        help="greedy: the most probable valid action; sample: draw from the "
                             "policy (greedy)")
    parser.add_argument("--speed", type=float, default=None, metavar="SECONDS",
                        help="play on by itself, pausing this long between steps (default: "
                             "wait for a key at each step)")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="stop after this many steps (default: the run's "
                             "env.max_steps_in_episode)")
    parser.add_argument("--no-colour", "--no-color", dest="no_colour", action="store_true",
                        help="plain text without ANSI colours")
    parser.set_defaults(func=run)


def _check(args) -> None:
    if (args.checkpoint is None) == (args.replay is None):
        raise ConfigError("give either a CHECKPOINT to watch or --replay FILE, not both")
    if args.replay and args.record:
        raise ConfigError("--record cannot be combined with --replay (the replay is the record)")
    if args.speed is not None and args.speed < 0:
        raise ConfigError(f"--speed must be >= 0 seconds, got {args.speed}")
    if args.episode < 0:
        raise ConfigError(f"--episode must be >= 0, got {args.episode}")
    if args.max_steps is not None and args.max_steps < 1:
        raise ConfigError(f"--max-steps must be at least 1, got {args.max_steps}")


def run(args, stdin=None, stdout=None, sleep=None) -> int:
    """Run `hackmatrix watch` (streams and the pause function injectable for tests)."""
    import time

    from hackmatrix.analysis.replay import read_replay, write_replay
    from hackmatrix.analysis.watch import WatchView, describe, finished_frames

    _check(args)
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if args.replay:
        meta, frames = read_replay(args.replay)
        source = iter(frames)
    else:
        from hackmatrix.analysis.policy import GREEDY, SAMPLE, best_checkpoint, load_policy
        from hackmatrix.analysis.watch import live_frames

        source, seed_index = args.checkpoint, args.seed_index
        if args.best:
            source, seed_index = best_checkpoint(args.checkpoint, args.seed_index)
        policy = load_policy(source, compilation_cache=True, seed_index=seed_index)
        mode = GREEDY if args.policy == "greedy" else SAMPLE
        max_steps = args.max_steps or policy.config.env.max_steps_in_episode
        meta = {"checkpoint": str(policy.checkpoint), "update": policy.update,
                "env_steps": policy.env_steps, "seed": args.seed, "episode": args.episode,
                "policy": args.policy, "max_steps": max_steps}
        source = live_frames(policy, args.seed, args.episode, mode, max_steps)
    view = WatchView(stdout, keys=stdin, speed=args.speed, colour=not args.no_colour,
                     title=describe(meta) + ("   (replay)" if args.replay else ""),
                     sleep=sleep or time.sleep)
    with single_keys(stdin):
        try:
            shown = view.run(source)
        except KeyboardInterrupt:
            shown = view.shown
            print("\ninterrupted.", file=stdout)
    if args.record:
        path = write_replay(args.record, meta, finished_frames(shown))
        print(f"recorded {len(shown)} frames to {path}", file=stdout)
    if args.gif:
        from hackmatrix.analysis.episode_gif import write_gif

        path = write_gif(args.gif, finished_frames(shown), title=view.title)
        print(f"wrote {len(shown)} frames to {path}", file=stdout)
    return 0
