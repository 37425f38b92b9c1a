"""Multi-seed runs in eval/watch (--seed-index) and report (one report per seed)."""

import json
import shutil

import jax
import numpy as np
import pytest
from analysis_kit import run_cli

from hackmatrix.analysis.policy import load_policy
from hackmatrix.analysis.report_cli import write_report
from hackmatrix.core import checkpoint as ckpt
from hackmatrix.core.run_dir import CHECKPOINT_DIR
from hackmatrix.core.train import make_train
from hackmatrix.errors import ConfigError


def _group_of(trained_run, tmp_path, seeds=(0, 5)):
    """A multi-seed copy of the trained run: seed i's params are (i + 1) x the run's params."""
    path = ckpt.resolve(trained_run)
    header, _ = ckpt.read_header(path)
    policy = load_policy(trained_run)
    shapes = jax.eval_shape(make_train(policy.config).init, jax.random.PRNGKey(0))
    runner = ckpt.restore(path, shapes)
    stacked = jax.tree.map(lambda x: np.stack([x] * len(seeds)), runner)
    stacked = stacked.replace(params=jax.tree.map(
        lambda x: x * np.arange(1, len(seeds) + 1, dtype=x.dtype).reshape(-1, *[1] * (x.ndim - 1)),
        stacked.params))
    group = tmp_path / "grp-001"
    config = dict(header["config"], run=dict(header["config"]["run"], seeds=list(seeds)))
    header = {k: v for k, v in header.items() if k not in ("format", "payload_bytes", "sha256")}
    ckpt.save(group / CHECKPOINT_DIR, stacked, dict(header, config=config, seeds=list(seeds)),
              keep_last=1)
    (group / "run.json").write_text(json.dumps({"name": "grp-001", "run_id": "g1",
                                                "seeds": list(seeds)}))
    return group, policy


def test_seed_index_picks_one_seed_of_a_multi_seed_checkpoint(trained_run, tmp_path):
    group, plain = _group_of(trained_run, tmp_path)
    second = load_policy(group, seed_index=1)
    assert second.seed == 5 and plain.seed is None
    for a, b in zip(jax.tree.leaves(plain.params), jax.tree.leaves(second.params), strict=True):
        np.testing.assert_array_equal(np.asarray(b), 2 * np.asarray(a))
    first = load_policy(group)
    assert first.seed == 0
    for a, b in zip(jax.tree.leaves(plain.params), jax.tree.leaves(first.params), strict=True):
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a))
    with pytest.raises(ConfigError, match=r"holds the seeds \[0, 5\]; allowed: 0 to 1"):
        load_policy(group, seed_index=2)
    with pytest.raises(ConfigError, match="one-seed run; allowed: 0"):
        load_policy(trained_run, seed_index=1)


def test_report_writes_one_report_per_seed(trained_run, tmp_path):
    group, _ = _group_of(trained_run, tmp_path, seeds=(3, 8))
    for seed in (3, 8):
        (group / f"seed-{seed}").mkdir()
        shutil.copy(trained_run / "metrics.jsonl", group / f"seed-{seed}" / "metrics.jsonl")
    status, text = run_cli(["report", str(group)])
    assert status == 0
    lines = text.splitlines()
    assert lines[0] == f"wrote 6 files to {group / 'report' / 'seed-3'}:"
    assert f"wrote 6 files to {group / 'report' / 'seed-8'}:" in lines
    for seed in (3, 8):
        summary = (group / "report" / f"seed-{seed}" / "summary.md").read_text()
        assert summary.startswith(f"# Run report: grp-001-seed-{seed}\n")
    assert len(write_report(group, tmp_path / "elsewhere")) == 12

