"""hackmatrix export: the policy alone, loaded in one call, acting exactly as the checkpoint's."""

import io
import json

import jax
import numpy as np
import pytest
from analysis_kit import EPISODES, MAX_STEPS, SEED, run_cli
from PIL import Image

from hackmatrix.analysis.export import META_FILE, PARAMS_FILE
from hackmatrix.analysis.policy import GREEDY, SAMPLE, choose_action, load_policy
from hackmatrix.cli import main
from hackmatrix.core import checkpoint as ckpt
from hackmatrix.env.constants import OBS_LAYOUT_VERSION
from hackmatrix.errors import CheckpointError
from hackmatrix.reference.game import Game


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory):
    """The export directory of the trained run's newest checkpoint."""
    out = tmp_path_factory.mktemp("export") / "tiny"
    status, text = run_cli(["export", str(trained_run), str(out)])
    assert status == 0 and f"to {out}: {META_FILE}, {PARAMS_FILE}" in text
    return out


def _observations(count: int) -> tuple:
    """Observations and masks of the first states of a few real games."""
    games = [Game.new(jax.random.PRNGKey(s)) for s in range(count)]
    return (np.stack([g.observe() for g in games]),
            np.stack([np.asarray(g.action_mask()) for g in games]))


def test_export_holds_the_network_config_and_no_training_state(trained_run, exported):
    meta = json.loads((exported / META_FILE).read_text())
    assert meta["obs_layout_version"] == OBS_LAYOUT_VERSION
    assert meta["network"] == {"kind": "ego", "hidden_sizes": [16], "activation": "tanh",
                               "conv_channels": [32, 32]}
    assert meta["source"]["update"] == 3 and "config" not in meta
    checkpoint = ckpt.resolve(trained_run)
    assert (exported / PARAMS_FILE).stat().st_size < checkpoint.stat().st_size / 2


def test_exported_policy_acts_exactly_as_the_checkpoint(trained_run, exported):
    original, loaded = load_policy(trained_run), load_policy(exported)
    assert loaded.exported and not original.exported
    assert loaded.network == original.network and loaded.update == original.update
    assert loaded.config.env.max_steps_in_episode == original.config.env.max_steps_in_episode
    for a, b in zip(jax.tree.leaves(original.params), jax.tree.leaves(loaded.params),
                    strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    obs, mask = _observations(4)
    logits_a, value_a = original.network.apply(original.params, obs)
    logits_b, value_b = loaded.network.apply(loaded.params, obs)
    assert np.array_equal(logits_a, logits_b) and np.array_equal(value_a, value_b)
    key = jax.random.PRNGKey(7)
    for mode in (GREEDY, SAMPLE):
        assert np.array_equal(choose_action(key, logits_a, mask, mode),
                              choose_action(key, logits_b, mask, mode))


def test_eval_and_watch_take_the_export(exported, eval_result, tmp_path):
    path = tmp_path / "eval.json"
    status, _ = run_cli(["eval", str(exported), "--episodes", str(EPISODES), "--seed", str(SEED),
                         "--max-steps", str(MAX_STEPS), "--json", str(path)])
    assert status == 0
    assert json.loads(path.read_text())["agent"] == eval_result[0]["agent"]
    gif = tmp_path / "watch.gif"
    status, text = run_cli(["watch", str(exported), "--speed", "0", "--max-steps", "3",
                            "--no-colour", "--gif", str(gif)], stdin=io.StringIO(""),
                           sleep=lambda s: None)
    assert status == 0 and "wrote 4 frames" in text
    with Image.open(gif) as image:
        assert image.n_frames == 4


def test_export_errors(exported, tmp_path, capsys):
    assert main(["eval", str(exported), "--episodes", "1", "--log-to-sinks"]) == 2
    assert "--log-to-sinks needs a checkpoint of a run" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    meta = json.loads((exported / META_FILE).read_text())
    (bad / META_FILE).write_text(json.dumps({**meta, "obs_layout_version": 0}))
    (bad / PARAMS_FILE).write_bytes((exported / PARAMS_FILE).read_bytes())
    with pytest.raises(CheckpointError, match="observation layout 0"):
        load_policy(bad)
    (bad / META_FILE).write_text(json.dumps(meta))
    (bad / PARAMS_FILE).write_bytes((exported / PARAMS_FILE).read_bytes()[:-3])
    with pytest.raises(CheckpointError, match="checksum does not match"):
        load_policy(bad)
