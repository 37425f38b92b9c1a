"""`hackmatrix play`: scripted keystrokes in, screens out."""

import io
import json
import os
import select
import subprocess
import sys
import time

import pytest
from refkit import enemy, make

from hackmatrix.cli import main as cli_main
from hackmatrix.reference.play import PlaySession, read_keys
from hackmatrix.reference.render import DIM, strip_ansi


def _play(game, keys: str, colour=True):
    out = io.StringIO()
    session = PlaySession(game, seed=7, out=out, colour=colour)
    totals = session.run(read_keys(io.StringIO(keys)))
    raw = out.getvalue()
    last = raw.split("\x1b[2J\x1b[H")[-1] if colour else raw.split("\f\n")[-1]
    return session, totals, strip_ansi(last), raw


def test_attack_shows_the_reward_and_its_components():
    g = make(enemies=[enemy("virus", 0, 1, hp=1)])
    session, totals, screen, _ = _play(g, "d")
    assert "RIGHT: reward +0.29 (step_penalty -0.01, kills +0.30)" in screen
    assert "game left on stage 1 after 1 actions" in screen
    assert float(totals["kills"]) == float(session.totals["kills"]) and totals["kills"] > 0.29


def test_refused_keys_never_end_the_game():
    g = make()
    session, _, _, raw = _play(g, "xZ")
    frames = [strip_ansi(f) for f in raw.split("\x1b[2J\x1b[H") if f]
    assert "SIPHON is not possible now" in frames[1]
    assert "unknown key 'Z': press ? for help" in frames[2]
    assert session.t == 0 and not g.done


def test_help_arrows_and_wasd():
    g = make(player={"row": 2, "col": 2})
    _, _, screen, _ = _play(g, "?")
    assert "keys: arrows or W A S D move / attack" in screen and "u UNDO" in screen
    _play(g, "\x1b[A\x1b[Ca")
    assert g.state.player.cell == (3, 2)


def test_board_and_panel_contents():
    g = make(player={"row": 1, "col": 1, "credits": 3, "energy": 0, "hp": 2, "data_siphons": 1},
             owned=["CRASH", "WAIT", "SHOW"], stage=2, turn=4,
             enemies=[enemy("daemon", 1, 3), enemy("cryptog", 4, 4)],
             transmissions=[{"row": 5, "col": 2, "timer": 3, "enemy_type": "virus"}],
             blocks=[{"row": 3, "col": 1, "kind": "question", "points": 4},
                     {"row": 3, "col": 2, "kind": "data", "points": 6},
                     {"row": 3, "col": 3, "kind": "program", "program": "HACK"}],
             resources=[{"row": 0, "col": 2, "credits": 3}], pickups=[[0, 5]],
             siphoned=[[1, 1], [2, 4]], siphon_centers=[[1, 1]])
    _, _, screen, raw = _play(g, "")
    lines = screen.splitlines()
    row3 = lines[lines.index(next(x for x in lines if x.startswith(" 3 |"))) + 1]
    assert "??" in row3 and "#6" in row3 and "HACK" in row3
    assert "D3" in screen and "~3" in screen and "C2" not in screen  # hidden cryptog
    assert "EXIT" in screen and "DATA" in screen and "c3" in screen and "@    *" in screen
    row2 = next(x for x in lines if x.startswith(" 2 |"))
    assert row2.split("|")[5] == "     ."  # siphoned, not the centre
    assert "HP ♥♥· 2/3" in screen and "stage 2/8" in screen and "turn 4" in screen
    assert "data siphons 1" in screen and "credits 3" in screen
    assert f"{DIM}  c CRASH  3/2" in raw  # CRASH: no energy, greyed
    assert f"{DIM}  . WAIT   0/1" in raw
    assert "  h SHOW   2/0" in screen and f"{DIM}  h SHOW" not in raw


def test_death_ends_with_result_and_totals():
    g = make(stage=3, player={"hp": 1, "energy": 2}, owned=["WAIT"],
             enemies=[enemy("daemon", 0, 1)])
    session, totals, screen, _ = _play(g, "..")
    assert session.t == 1
    assert "GAME OVER: you died on stage 3" in screen
    assert ["death_penalty", "-1.50"] in [line.split() for line in screen.splitlines()]
    assert "episode reward -2.56 over 1 steps" in screen
    assert round(float(totals["damage_penalty"]), 2) == -1.0


def test_victory_and_plain_output():
    g = make(stage=8, player={"row": 5, "col": 4, "score": 2})
    _, _, screen, raw = _play(g, "d", colour=False)
    assert "\x1b[" not in raw
    assert "VICTORY: all 8 stages cleared, score 2" in screen
    assert ["victory", "+700.00"] in [line.split() for line in screen.splitlines()]


def test_cli_scenario_file_and_errors(tmp_path, monkeypatch, capsys):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"player": {"row": 2, "col": 2, "data_siphons": 1},
                                "resources": [{"row": 2, "col": 3, "credits": 2}]}))
    monkeypatch.setattr(sys, "stdin", io.StringIO("xq"))
    assert cli_main(["play", "--scenario", str(path), "--no-colour"]) == 0
    out = capsys.readouterr().out
    assert "SIPHON: reward" in out and "resource_gain +0.10" in out and "you quit." in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("player: {hp: 9}\n")
    assert cli_main(["play", "--scenario", str(bad)]) == 2
    assert "player.hp" in capsys.readouterr().err


def test_pseudo_terminal_session():
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "hackmatrix.cli", "play", "--seed", "5"],
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out = b""

    def read_until(marker: bytes, timeout: float = 120):
        nonlocal out
        end = time.time() + timeout
        while marker not in out and time.time() < end:
            if select.select([master], [], [], 0.5)[0]:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    break

    read_until(b"Press ? for help")
    os.write(master, b"?")
    read_until(b"keys: arrows")
    os.write(master, b"q")
    read_until(b"episode reward")
    proc.wait(timeout=60)
    os.close(master)
    text = strip_ansi(out.decode("utf-8", "replace"))
    assert "keys: arrows or W A S D" in text and "you quit." in text
    assert proc.returncode == 0


@pytest.mark.parametrize("seed", ["1e23", str(2**70), "-1"])
def test_play_refuses_a_seed_that_is_not_a_64_bit_integer(seed, capsys):
    from hackmatrix.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["play", "--seed", seed])
    assert "argument --seed: must be" in capsys.readouterr().err
