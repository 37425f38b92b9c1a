"""Multi-seed groups through the real backends: MLflow parent + children, wandb groups, TB dirs."""

from mlflow.tracking import MlflowClient

from hackmatrix.core.seed_group import open_group
from hackmatrix.metrics.health import HealthConfig
from hackmatrix.sinks import RunInfo, validate_sink_specs
from hackmatrix.sinks.jsonl import read_jsonl
from hackmatrix.sinks.wandb_log import read_run_logs

SEEDS = (4, 9)


def _info(tmp_path, resumed=False, start_step=0):
    return RunInfo(name="ppo-007", run_id="group0007", directory=tmp_path / "ppo-007",
                   config={"run.seeds": [4, 9], "run.seed": 0, "ppo.num_steps": 8,
                           "seeds": [4, 9]},
                   resumed=resumed, start_step=start_step, total_updates=6)


def _log(specs, info, steps):
    group = open_group(validate_sink_specs(specs), info, SEEDS, HealthConfig(), True)
    for step in steps:
        group.publish(step, [{"train/entropy": step + 0.5 * i, "perf/env_steps": 64.0 * step}
                             for i in range(len(SEEDS))])
    group.close("finished")
    return group


def test_mlflow_parent_with_one_child_per_seed_survives_resume(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    specs = [{"type": "mlflow", "tracking_uri": uri, "experiment": "seeds",
              "artifact_location": str(tmp_path / "artifacts")}]
    _log(specs, _info(tmp_path), range(1, 5))
    _log(specs, _info(tmp_path, resumed=True, start_step=4), range(5, 7))
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("seeds").experiment_id
    runs = client.search_runs([experiment])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = sorted((r for r in runs if "mlflow.parentRunId" in r.data.tags),
                      key=lambda r: r.info.run_name)
    assert len(runs) == 3 and len(parents) == 1
    (parent,) = parents
    assert parent.info.run_name == "ppo-007" and parent.info.status == "FINISHED"
    assert parent.data.params["seeds"] == "[4, 9]" and "run.seed" not in parent.data.params
    assert [c.info.run_name for c in children] == ["ppo-007-seed-4", "ppo-007-seed-9"]
    for child, seed in zip(children, SEEDS, strict=True):
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.tags["hackmatrix.seed"] == str(seed)
        assert child.data.params["run.seed"] == str(seed)
        assert child.info.status == "FINISHED"
        offset = 0.5 * SEEDS.index(seed)
        history = [(m.step, m.value) for m in client.get_metric_history(child.info.run_id,
                                                                         "train/entropy")]
        assert sorted(history) == [(s, s + offset) for s in range(1, 7)]


def test_wandb_runs_per_seed_share_the_group(tmp_path):
    _log(["wandb"], _info(tmp_path), range(1, 4))
    for index, seed in enumerate(SEEDS):
        (run,) = read_run_logs(tmp_path / "ppo-007" / f"seed-{seed}")
        assert run["run_id"] == f"group0007-seed-{seed}"
        assert run["group"] == "ppo-007"
        assert run["config"]["run.seed"] == seed
        assert [row["train/entropy"] for row in run["history"]] == [
            s + 0.5 * index for s in range(1, 4)]


def test_tensorboard_and_jsonl_files_per_seed_and_one_console_table(tmp_path, capsys):
    _log(["console", "jsonl", "tensorboard"], _info(tmp_path), range(1, 3))
    root = tmp_path / "ppo-007"
    for index, seed in enumerate(SEEDS):
        assert list((root / f"seed-{seed}" / "tensorboard").glob("events.out.tfevents.*"))
        rows = read_jsonl(root / f"seed-{seed}" / "metrics.jsonl")
        assert [r["train/entropy"] for r in rows] == [1 + 0.5 * index, 2 + 0.5 * index]
    assert not (root / "tensorboard").exists() and not (root / "metrics.jsonl").exists()
    out = capsys.readouterr().out
    assert out.count("run ppo-007 (group0007)") == 1
    # The console shows the mean over the seeds: (1 + 1.5) / 2 at update 1.
    assert "train/entropy                  1.2500" in out
