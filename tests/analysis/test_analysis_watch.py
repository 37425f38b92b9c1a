"""hackmatrix watch: the live agent in the play renderer, recording, and replay without compiling."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from analysis_kit import MAX_STEPS, SEED, run_cli

from hackmatrix.analysis.replay import ReplayError, read_replay, write_replay
from hackmatrix.cli import main
from hackmatrix.env.constants import NUM_ACTIONS, REWARD_KEYS
from hackmatrix.reference.play import ACTION_LABELS

# A subprocess imports everything first, then counts the XLA compilations of the playback alone.
COUNT_COMPILES = """
import sys
import jax
from hackmatrix.cli import build_parser, main
build_parser()
compiles = []
jax.monitoring.register_event_duration_secs_listener(
    lambda event, seconds, **kw: compiles.append(event)
    if event == "/jax/core/compile/backend_compile_duration" else None)
status = main(sys.argv[1:])
print("COMPILES", len(compiles), "STATUS", status)
"""


def _screens(text: str) -> list:
    return [s for s in text.split("\f\n") if s.strip()]


def test_step_by_step_shows_choice_probability_alternatives_and_value(trained_run, tmp_path):
    record = tmp_path / "three.json"
    status, text = run_cli(["watch", str(trained_run), "--no-colour", "--record", str(record),
                            "--max-steps", str(MAX_STEPS)], stdin=io.StringIO("nxq"))
    assert status == 0
    screens = _screens(text)
    assert len(screens) == 3  # two keys step on, the third is q
    meta, frames = read_replay(record)
    assert meta["seed"] == 0 and meta["episode"] == 0 and meta["policy"] == "greedy"
    assert [f["t"] for f in frames] == [0, 1, 2]
    assert frames[2]["action"] is None and frames[2]["probs"] is None  # q: not stepped
    for screen, frame in zip(screens[:2], frames[:2], strict=True):
        probs, action = np.asarray(frame["probs"]), frame["action"]
        mask = np.asarray(frame["mask"])
        assert probs.sum() == pytest.approx(1.0, abs=1e-5) and (probs[~mask] == 0).all()
        assert action == int(np.argmax(probs))  # greedy
        assert (f"agent chooses {ACTION_LABELS[action]} (p {probs[action]:.3f})   value "
                f"estimate {frame['value']:+.3f}") in screen
        assert "  alternatives: " in screen and "HP " in screen and "EXIT" in screen
        assert "any key: next step   q: quit" in screen
        assert sum(frame["breakdown"].values()) == pytest.approx(frame["reward"], abs=1e-6)
    first = frames[0]
    assert f"last step {ACTION_LABELS[first['action']]}: reward {first['reward']:+.2f}" in \
        screens[1]
    assert f"episode return {first['reward']:+.2f}" in screens[1]
    # The next frame's board is the state the first action led to.
    assert frames[1]["scenario"] != frames[0]["scenario"]


def test_watched_episode_is_the_same_episode_as_in_eval(trained_run, eval_result, tmp_path):
    result, _, _ = eval_result
    record = tmp_path / "episode1.json.gz"
    status, text = run_cli(["watch", str(trained_run), "--seed", str(SEED), "--episode", "1",
                            "--speed", "0", "--max-steps", str(MAX_STEPS), "--no-colour",
                            "--record", str(record)], sleep=lambda s: None)
    assert status == 0
    _, frames = read_replay(record)
    stepped, last = frames[:-1], frames[-1]
    per = result["agent"]["per_episode"]
    assert len(stepped) == per["length"][1]
    assert sum(np.float32(f["reward"]) for f in stepped) == pytest.approx(per["return"][1],
                                                                          abs=1e-4)
    assert last["scenario"]["stage"] == per["final_stage"][1]
    assert last["scenario"]["won"] == per["won"][1]
    assert len(_screens(text)) == len(frames)
    assert "any key" not in text  # at a set speed nothing waits for a key
    end = _screens(text)[-1]
    assert f"episode return {sum(np.float32(f['reward']) for f in stepped):+.2f} over " \
           f"{len(stepped)} steps:" in end
    for key in REWARD_KEYS:
        assert f"  {key:22s} " in end


def test_replay_plays_back_the_recording_without_compiling(trained_run, tmp_path):
    record = tmp_path / "five.json"
    status, live = run_cli(["watch", str(trained_run), "--no-colour", "--speed", "0",
                            "--max-steps", "5", "--record", str(record)], sleep=lambda s: None)
    assert status == 0
    proc = subprocess.run([sys.executable, "-c", COUNT_COMPILES, "watch", "--replay",
                           str(record), "--no-colour", "--speed", "0"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out, summary = proc.stdout.rsplit("COMPILES", 1)
    assert summary.split() == ["0", "STATUS", "0"]
    live_screens = _screens(live.split("recorded ")[0])
    replay_screens = [s.replace("   (replay)", "") for s in _screens(out)]
    assert replay_screens == live_screens and len(live_screens) == len(read_replay(record)[1])


def test_replay_errors_name_the_problem(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    with pytest.raises(ReplayError, match="is not a hackmatrix replay"):
        read_replay(bad)
    frame = {"t": 0, "scenario": {}, "mask": [True] * NUM_ACTIONS, "probs": [0.0] * NUM_ACTIONS,
             "value": 0.0, "action": NUM_ACTIONS, "reward": 0.0,
             "breakdown": dict.fromkeys(REWARD_KEYS, 0.0)}
    final = {**frame, "probs": None, "value": None, "action": None, "reward": None,
             "breakdown": None}
    write_replay(bad, {}, [frame, final])
    with pytest.raises(ReplayError, match=r"frame 0: action must be an integer in \[0, 28\)"):
        read_replay(bad)
    assert main(["watch", "--replay", str(tmp_path / "missing.json")]) == 2
    assert "cannot read replay file" in capsys.readouterr().err
    assert main(["watch"]) == 2
    assert "give either a CHECKPOINT" in capsys.readouterr().err


def test_replay_file_is_plain_json(tmp_path):
    path = write_replay(tmp_path / "r.json", {"seed": 1}, [{"t": 0}])
    data = json.loads(path.read_text())
    assert data == {"format": "hackmatrix-replay", "version": 1, "meta": {"seed": 1},
                    "frames": [{"t": 0}]}
