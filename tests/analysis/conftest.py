"""Shared fixtures of the eval/watch/report tests: one real tiny training run and one eval of it.

Compilation dominates the cost (the training chunk, then the eval loop), so the package trains
once, every eval in it uses the same episode count (one compiled loop), and XLA's optimisations
are off while these tests run: the tiny shapes run fast anyway, and compiling the game takes about
a third less time without them. The setting is restored for the tests of the other packages.
"""

import json

import jax
import pytest
from analysis_kit import EPISODES, MAX_STEPS, SEED, TRAIN, run_cli

from hackmatrix.cli import main


@pytest.fixture(scope="package", autouse=True)
def fast_compiles():
    """Compile without most XLA optimisations while this package's tests run."""
    previous = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", previous)


@pytest.fixture(scope="package")
def trained_run(fast_compiles, tmp_path_factory):
    """The run directory of a real 3-update training run of the real game."""
    root = tmp_path_factory.mktemp("runs")
    assert main(["train", *TRAIN, f"run.runs_dir={root}"]) == 0
    return root / "tiny-001"


@pytest.fixture(scope="package")
def eval_result(trained_run, tmp_path_factory):
    """`hackmatrix eval` of the run with --json and --log-to-sinks: (json, table text, path)."""
    path = tmp_path_factory.mktemp("eval") / "eval.json"
    status, text = run_cli(["eval", str(trained_run), "--episodes", str(EPISODES), "--seed",
                            str(SEED), "--max-steps", str(MAX_STEPS), "--json", str(path),
                            "--log-to-sinks"])
    assert status == 0
    return json.loads(path.read_text()), text, path
