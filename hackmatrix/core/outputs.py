"""The closing message of a run: where each sink wrote, and the commands that open it."""

from pathlib import Path

from hackmatrix.sinks import load_sink_class


def describe_outputs(run_dir: Path, specs, checkpoint: Path | None, status: str,
                     multi_seed: bool = False) -> str:
    """Return the lines that say where the run's outputs are and how to look at them.

    `specs` are validated sink specs (options filled in); each sink describes its own output
    (`Sink.describe_output`), so core knows no sink by name.
    """
    run_dir = Path(run_dir)
    lines = [f"run directory: {run_dir}  (config.yaml, run.json, checkpoints/)"]
    if checkpoint is not None:
        lines.append(f"last checkpoint: {checkpoint}")
    if multi_seed:
        lines.append(f"seeds:       {run_dir / 'seed-<s>'}/  (each seed's own sink files)")
    for spec in specs:
        options = dict(spec)
        line = load_sink_class(options.pop("type")).describe_output(options, run_dir, multi_seed)
        if line:
            lines.append(line)
    if status != "finished":
        lines.append(f"resume with:  hackmatrix train --resume {run_dir}")
    return "\n".join(lines)
