"""Shared fixtures of the eval/watch/report tests: one real tiny training run and one eval of it.

Compilation dominates the cost (the training chunk, then the eval loop), so the session trains
once, and every eval in the session uses the same episode count, which reuses one compiled loop.
"""

import json

import pytest
from analysis_kit import EPISODES, MAX_STEPS, SEED, TRAIN, run_cli

from hackmatrix.cli import main


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """The run directory of a real 3-update training run of the real game."""
    root = tmp_path_factory.mktemp("runs")
    assert main(["train", *TRAIN, f"run.runs_dir={root}"]) == 0
    return root / "tiny-001"


@pytest.fixture(scope="session")
def eval_result(trained_run, tmp_path_factory):
    """`hackmatrix eval` of the run with --json and --log-to-sinks: (json, table text, path)."""
    path = tmp_path_factory.mktemp("eval") / "eval.json"
    status, text = run_cli(["eval", str(trained_run), "--episodes", str(EPISODES), "--seed",
                            str(SEED), "--max-steps", str(MAX_STEPS), "--json", str(path),
                            "--log-to-sinks"])
    assert status == 0
    return json.loads(path.read_text()), text, path
