"""Optuna's TPE sampler with batched ask/tell: ask `sweep.batch` trials, train them as one
population, tell their scores (the mean over seeds), repeat until `sweep.points` trials are done.
"""

import math
import uuid

from hackmatrix.errors import ConfigError
from hackmatrix.sweep.points import point_config
from hackmatrix.sweep.ranking import interval
from hackmatrix.sweep.run import (
    COMPLETE,
    finish,
    new_sweep_dir,
    read_scores,
    train_batch,
    write_sweep_json,
)


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ConfigError("sweep.method 'optuna' needs the optuna package: pip install "
                          "'hackmatrix[sweep]' (make install includes it)") from None
    return optuna


def run_optuna(base, spec, seeds, keys, train_fn, log):
    """Run an Optuna TPE sweep in batches of `spec.batch` trials; return the SweepResult."""
    optuna = _optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize" if spec.score.mode == "max" else "minimize",
        sampler=optuna.samplers.TPESampler(seed=spec.seed))
    sweep_dir = new_sweep_dir(base)
    group_id = uuid.uuid4().hex
    points, configs, scores, result = [], {}, {}, None
    while len(points) < spec.points and (result is None or result.status in COMPLETE):
        trials = [study.ask() for _ in range(min(spec.batch, spec.points - len(points)))]
        batch = {}
        for trial in trials:
            values = {d.key: trial.suggest_float(d.key, d.low, d.high, log=d.log)
                      for d in spec.dimensions}
            batch[len(points)] = configs[len(points)] = point_config(base, values)
            points.append(values)
        log(f"optuna: training trials {min(batch)}..{max(batch)} ({len(batch)} points x "
            f"{len(seeds)} seeds in one program)")
        result = train_batch(base, sweep_dir, batch, seeds, group_id, train_fn, log)
        got = read_scores(result.run_dir, batch, seeds, spec.score)
        for trial, index in zip(trials, batch, strict=True):
            mean = interval(got[index])[0]
            if math.isfinite(mean):
                study.tell(trial, mean)
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
        scores.update(got)
    write_sweep_json(sweep_dir, spec, points)
    return finish(sweep_dir, spec, keys, points, configs, scores, result, log)
