"""A sweep's members through the real backends: MLflow parent + a child per point with its
values as params, wandb runs grouped by the sweep with the values in their config, TensorBoard
one directory per point with its HParams, JSONL per point."""

from mlflow.tracking import MlflowClient
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hparams_metadata

from hackmatrix.core.population import Member, Population
from hackmatrix.core.seed_group import member_run_info, open_members
from hackmatrix.metrics.health import HealthConfig
from hackmatrix.sinks import RunInfo, validate_sink_specs
from hackmatrix.sinks.jsonl import read_jsonl
from hackmatrix.sinks.wandb_log import read_run_logs

ENT_COEFS = (0.003, 0.03)
LABELS = ("p000-seed-0", "p001-seed-0")


def _population():
    members = tuple(
        Member(label, 0, {"ent_coef": ent}, {"ppo.ent_coef": ent, "run.seed": 0,
                                             "sweep.point": index})
        for index, (label, ent) in enumerate(zip(LABELS, ENT_COEFS, strict=True)))
    return Population(members, grouped=True, group="ppo-sweep-001", group_id="sweep0001")


def _log(specs, tmp_path):
    info = RunInfo(name="batch-001", run_id="batch0001", directory=tmp_path / "batch-001",
                   config={"ppo.ent_coef": 0.01}, total_updates=2)
    population = _population()
    members = [(m.label, member_run_info(info, m, population)) for m in population.members]
    group = open_members(validate_sink_specs(specs), info, members, HealthConfig(), True)
    for step in (1, 2):
        group.publish(step, [{"train/entropy": step + i} for i in range(len(LABELS))])
    group.close("finished")
    return tmp_path / "batch-001"


def test_mlflow_one_sweep_parent_with_a_child_per_point(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    _log([{"type": "mlflow", "tracking_uri": uri, "experiment": "sweep",
           "artifact_location": str(tmp_path / "artifacts")}], tmp_path)
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("sweep").experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = sorted((r for r in runs if "mlflow.parentRunId" in r.data.tags),
                      key=lambda r: r.info.run_name)
    assert [p.info.run_name for p in parents] == ["ppo-sweep-001"]
    assert [c.info.run_name for c in children] == [f"batch-001-{label}" for label in LABELS]
    for child, ent in zip(children, ENT_COEFS, strict=True):
        assert child.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
        assert child.data.params["ppo.ent_coef"] == str(ent)


def test_wandb_runs_grouped_by_the_sweep_with_their_values(tmp_path):
    root = _log(["wandb"], tmp_path)
    for label, ent in zip(LABELS, ENT_COEFS, strict=True):
        (run,) = read_run_logs(root / label)
        assert run["group"] == "ppo-sweep-001"
        assert run["config"]["ppo.ent_coef"] == ent


def test_tensorboard_hparams_and_jsonl_per_point(tmp_path):
    root = _log(["jsonl", "tensorboard"], tmp_path)
    for index, (label, ent) in enumerate(zip(LABELS, ENT_COEFS, strict=True)):
        accumulator = EventAccumulator(str(root / label / "tensorboard"))
        accumulator.Reload()
        content = accumulator.PluginTagToContent(hparams_metadata.PLUGIN_NAME)
        start = hparams_metadata.parse_session_start_info_plugin_data(
            content[hparams_metadata.SESSION_START_INFO_TAG])
        assert start.hparams["ppo.ent_coef"].number_value == ent
        rows = read_jsonl(root / label / "metrics.jsonl")
        assert [r["train/entropy"] for r in rows] == [1 + index, 2 + index]
