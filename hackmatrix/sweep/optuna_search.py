"""Optuna's TPE sampler with batched ask/tell: ask `sweep.batch` trials, train them as one
population, tell their scores (the mean over seeds), repeat until `sweep.points` trials are done.

The study lives in the sweep directory (optuna.log, Optuna's journal file storage), so a resumed
sweep reloads every trial asked and told (sweep.json maps each batch's points to their trial
numbers). The resumed sampler is seeded with `sweep.seed` plus the points already asked, so it
does not redraw the first ones.
"""

import math

from hackmatrix.errors import ConfigError
from hackmatrix.sweep.ranking import interval
from hackmatrix.sweep.run import batch_scores, finish, train_batch
from hackmatrix.sweep.state import COMPLETE

STUDY_FILE = "optuna.log"
STUDY_NAME = "sweep"


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ConfigError("sweep.method 'optuna' needs the optuna package: pip install "
                          "'hackmatrix[sweep]' (make install includes it)") from None
    return optuna


def open_study(optuna, state):
    """Create or reload the sweep's study from its journal file in the sweep directory."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(state.sweep_dir / STUDY_FILE)))
    return optuna.create_study(
        study_name=STUDY_NAME, storage=storage, load_if_exists=True,
        direction="maximize" if state.spec.score.mode == "max" else "minimize",
        sampler=optuna.samplers.TPESampler(seed=state.spec.seed + len(state.points)))


def tell_batch(optuna, study, state, index: int) -> None:
    """Tell the study the scores of batch `index`'s trials that it has not been told yet."""
    running = optuna.trial.TrialState.RUNNING
    open_trials = {t.number for t in study.get_trials(deepcopy=False, states=(running,))}
    batch = state.batches[index]
    trial_of = dict(zip(batch["points"], batch["trials"], strict=True))
    for point, scores in batch_scores(state, index).items():
        if trial_of[point] not in open_trials:
            continue
        mean = interval(scores)[0]
        if math.isfinite(mean):
            study.tell(trial_of[point], mean)
        else:
            study.tell(trial_of[point], state=optuna.trial.TrialState.FAIL)


def fail_unrecorded(optuna, study, state) -> None:
    """Fail the trials asked but never recorded in sweep.json (killed between the two)."""
    recorded = {n for batch in state.batches for n in batch["trials"]}
    running = optuna.trial.TrialState.RUNNING
    for trial in study.get_trials(deepcopy=False, states=(running,)):
        if trial.number not in recorded:
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)


def run_optuna(state, train_fn, log, overrides=()):
    """Run (or resume) an Optuna TPE sweep in batches of `sweep.batch` trials."""
    optuna = _optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec = state.spec
    study = open_study(optuna, state)
    fail_unrecorded(optuna, study, state)
    result = None
    for index, batch in enumerate(state.batches):
        if batch["status"] not in COMPLETE:
            log(f"optuna: resuming trials {batch['points'][0]}..{batch['points'][-1]}")
            result = train_batch(state, index, train_fn, log, overrides)
            if result.status not in COMPLETE:
                return finish(state, result, log)
        tell_batch(optuna, study, state, index)
    while len(state.points) < spec.points:
        trials = [study.ask() for _ in range(min(spec.batch, spec.points - len(state.points)))]
        points = [{d.key: trial.suggest_float(d.key, d.low, d.high, log=d.log)
                   for d in spec.dimensions} for trial in trials]
        index = state.add_batch(points, trials=[trial.number for trial in trials])
        first = state.batches[index]["points"][0]
        log(f"optuna: training trials {first}..{first + len(points) - 1} ({len(points)} points x "
            f"{len(state.seeds)} seeds in one program)")
        result = train_batch(state, index, train_fn, log, overrides)
        if result.status not in COMPLETE:
            break
        tell_batch(optuna, study, state, index)
    return finish(state, result, log)
