"""Shared set-up of the sink tests: wandb offline and silent, run metadata helpers."""

import pytest

from hackmatrix.sinks import RunInfo


@pytest.fixture(autouse=True)
def offline_wandb(monkeypatch, tmp_path):
    """No network and no stray files: wandb offline, silent, its cache under tmp_path."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "wandb-cache"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "wandb-data"))


@pytest.fixture
def make_run_info(tmp_path):
    """RunInfo factory for a run directory under tmp_path."""

    def make(resumed=False, start_step=0, directory=None, **kwargs):
        kwargs.setdefault("config", {"ppo.learning_rate": 0.00025, "env.num_envs": 8,
                                     "network.hidden_sizes": [64, 64], "run.name": "test"})
        return RunInfo(name="test-run", run_id="test-run-0001",
                       directory=directory or tmp_path / "run", resumed=resumed,
                       start_step=start_step, git_commit="abc123", total_updates=10, **kwargs)

    return make
