"""The closing message of a run: where each sink wrote, and the commands that open it."""

from pathlib import Path


def _mlflow(spec, run_dir: Path) -> str:
    uri = spec.get("tracking_uri", "sqlite:///mlflow.db")
    if uri.startswith(("http://", "https://", "databricks")):
        return f"MLflow: open {uri} (experiment '{spec.get('experiment', 'hackmatrix')}')"
    return (f"MLflow:      mlflow ui --backend-store-uri {uri}   then open http://127.0.0.1:5000 "
            f"(experiment '{spec.get('experiment', 'hackmatrix')}')")


HINTS = {
    "jsonl": lambda spec, run_dir: f"metrics:     {run_dir / spec.get('filename', 'metrics.jsonl')}",
    "tensorboard": lambda spec, run_dir: (
        f"TensorBoard: tensorboard --logdir {run_dir / spec.get('subdir', 'tensorboard')}   "
        f"then open http://localhost:6006"),
    "mlflow": _mlflow,
    "wandb": lambda spec, run_dir: "Weights & Biases: see the run link printed by wandb above",
}


def describe_outputs(run_dir: Path, specs, checkpoint: Path | None, status: str,
                     multi_seed: bool = False) -> str:
    """Return the lines that say where the run's outputs are and how to look at them."""
    lines = [f"run directory: {run_dir}  (config.yaml, run.json, checkpoints/)"]
    if checkpoint is not None:
        lines.append(f"last checkpoint: {checkpoint}")
    if multi_seed:
        lines.append(f"seeds:       {Path(run_dir) / 'seed-<s>'}/  (each seed's own sink files)")
        lines.append(f"TensorBoard: tensorboard --logdir {run_dir}   (the seeds side by side)")
    for spec in specs:
        if multi_seed and spec["type"] in ("jsonl", "tensorboard"):
            continue
        hint = HINTS.get(spec["type"])
        if hint:
            lines.append(hint(spec, Path(run_dir)))
    if status != "finished":
        lines.append(f"resume with:  hackmatrix train --resume {run_dir}")
    return "\n".join(lines)
