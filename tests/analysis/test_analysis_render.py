"""Pillow images of game states and animated episode GIFs, decoded back from real files."""

import hashlib
import io

import jax
import pytest
from PIL import Image

from hackmatrix.analysis.episode_gif import LAST_FRAME_MS, write_gif
from hackmatrix.analysis.render_image import (
    CELL,
    ENEMY_COLOUR,
    IMAGE_SIZE,
    MARGIN,
    PLAYER_COLOUR,
    TITLE_HEIGHT,
    render_state,
)
from hackmatrix.analysis.replay import write_replay
from hackmatrix.env.constants import NUM_ACTIONS, REWARD_KEYS, VIRUS
from hackmatrix.env.scenario import state_from_scenario
from hackmatrix.reference.game import Game

BUSY = {
    "stage": 3, "turn": 4,
    "player": {"row": 1, "col": 2, "hp": 2, "credits": 7, "energy": 3, "data_siphons": 1,
               "score": 12},
    "owned": ["PUSH", "SIPH+", "ANTI-V"],
    "enemies": [{"type": "virus", "row": 3, "col": 2},
                {"type": "daemon", "row": 4, "col": 4, "hp": 1, "stunned": True}],
    "transmissions": [{"row": 1, "col": 4, "timer": 2, "enemy_type": "daemon"}],
    "blocks": [{"row": 2, "col": 2, "kind": "data", "points": 5},
               {"row": 3, "col": 3, "kind": "program", "program": "WARP"}],
    "resources": [{"row": 0, "col": 3, "credits": 2}, {"row": 1, "col": 3, "energy": 1}],
    "pickups": [[0, 5], [5, 0]],
}
SCENARIOS = {
    "fresh": {},
    "busy": BUSY,
    "moved": {**BUSY, "player": {**BUSY["player"], "col": 1}},
    "hurt": {**BUSY, "player": {**BUSY["player"], "hp": 1}},
    "over": {**BUSY, "player": {**BUSY["player"], "hp": 0}, "done": True},
    "won": {"stage": 8, "won": True, "done": True, "owned": ["HACK", "CALM"]},
}


def _decoded(image) -> Image.Image:
    """Write the image as PNG and read it back, as a viewer would."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return Image.open(io.BytesIO(buffer.getvalue()))


def _rim(r: int, c: int) -> tuple:
    """A pixel inside the circle of a cell's occupant, clear of its label."""
    return (MARGIN + c * CELL + CELL // 2 + 13,
            TITLE_HEIGHT + MARGIN + (5 - r) * CELL + CELL // 2 - 2)


def _near(pixel, colour, tolerance=24) -> bool:
    """GIF frames carry a 255-colour palette, so colours come back close, not exact."""
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def test_scenarios_decode_at_the_fixed_size_and_render_distinctly():
    digests = {}
    for name, scenario in SCENARIOS.items():
        image = _decoded(render_state(scenario, last_action=4, last_reward=1.5, title=name))
        assert image.format == "PNG" and image.size == IMAGE_SIZE and image.mode == "RGB"
        digests[name] = hashlib.sha256(image.tobytes()).hexdigest()
    assert len(set(digests.values())) == len(SCENARIOS)


def test_player_and_enemy_stand_where_the_state_puts_them():
    image = _decoded(render_state(BUSY))
    assert image.getpixel(_rim(1, 2)) == PLAYER_COLOUR
    assert image.getpixel(_rim(3, 2)) == ENEMY_COLOUR[VIRUS]
    assert image.getpixel(_rim(0, 0)) != PLAYER_COLOUR


def test_the_jax_env_state_draws_like_its_scenario():
    from_env = render_state(state_from_scenario(BUSY))
    assert from_env.tobytes() == render_state(BUSY).tobytes()


def test_panel_shows_the_last_action_and_greys_unusable_programs():
    base = render_state(BUSY)
    assert render_state(BUSY, last_action=0, last_reward=0.5).tobytes() != base.tobytes()
    assert render_state(BUSY, mask=[False] * NUM_ACTIONS).tobytes() != base.tobytes()
    assert render_state(BUSY, mask=[True] * NUM_ACTIONS).tobytes() == base.tobytes()


def played_frames(steps: int, seed: int = 3) -> list:
    """Replay-format frames of a real reference game, playing the first valid action."""
    game = Game.new(jax.random.PRNGKey(seed))
    frames = []
    for t in range(steps):
        mask = game.action_mask()
        action = mask.index(True)
        frame = {"t": t, "scenario": game.to_scenario(), "mask": list(mask),
                 "probs": [1.0 / sum(mask) if m else 0.0 for m in mask], "value": 0.0,
                 "action": action, "reward": None, "breakdown": None}
        reward, _, breakdown = game.step(jax.random.PRNGKey(100 + t), action)
        frame["reward"] = float(reward)
        frame["breakdown"] = {k: float(breakdown[k]) for k in REWARD_KEYS}
        frames.append(frame)
        if game.done:
            break
    frames.append({"t": len(frames), "scenario": game.to_scenario(),
                   "mask": list(game.action_mask()), "probs": None, "value": None,
                   "action": None, "reward": None, "breakdown": None})
    return frames


@pytest.fixture(scope="module")
def frames():
    """Six frames of a real game (five steps and the final state)."""
    return played_frames(5)


def test_gif_has_one_decodable_frame_per_state(frames, tmp_path):
    path = write_gif(tmp_path / "sub" / "episode.gif", frames, title="test", frame_ms=250)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.is_animated and gif.n_frames == len(frames)
        assert gif.info["loop"] == 0
        durations = []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
            rgb = gif.convert("RGB")
            assert rgb.size == IMAGE_SIZE
            player = frames[i]["scenario"]["player"]
            assert _near(rgb.getpixel(_rim(player["row"], player["col"])), PLAYER_COLOUR)
    assert durations == [250] * (len(frames) - 1) + [LAST_FRAME_MS]


def test_gif_refuses_an_empty_episode(tmp_path):
    with pytest.raises(ValueError, match="at least one frame"):
        write_gif(tmp_path / "x.gif", [])


def test_watch_replay_writes_the_gif_without_a_checkpoint(frames, tmp_path):
    from analysis_kit import run_cli

    replay = write_replay(tmp_path / "game.json.gz", {"seed": 3}, frames)
    out = tmp_path / "replay.gif"
    status, text = run_cli(["watch", "--replay", str(replay), "--gif", str(out), "--speed", "0",
                            "--no-colour"], stdin=io.StringIO(""), sleep=lambda s: None)
    assert status == 0 and f"wrote {len(frames)} frames to {out}" in text
    with Image.open(out) as gif:
        assert gif.n_frames == len(frames) and gif.size == IMAGE_SIZE
