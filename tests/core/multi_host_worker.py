"""One process of a probe training run for test_multi_host.py; the test starts several at once.

Usage: python multi_host_worker.py (new | RUN_DIR_TO_RESUME) OVERRIDES... It starts JAX the way
`hackmatrix train` does (`run.distributed=true` joins the processes named by the JAX_* variables),
trains the probe env and prints one JSON line: this process's index, the process and device
counts and how the run ended.
"""

import json
import sys

import jax

from hackmatrix.core import load_config, make_train
from hackmatrix.core.loop import train
from hackmatrix.core.resume import prepare_resume
from hackmatrix.core.train_cli import _set_up_jax


def main(resume: str, *overrides: str) -> None:
    """Train (or resume) the probe run in this process and report it."""
    # Run as a script, `conftest` is this directory's (see fault_worker.py).
    from conftest import ProbeEnv, probe_train_reduce

    if resume == "new":
        config, point = load_config(None, list(overrides)), None
    else:
        config, point = prepare_resume(resume, list(overrides))
    _set_up_jax(config)
    trainer = make_train(config, ProbeEnv(), None, probe_train_reduce)
    result = train(config, resume=point, trainer=trainer, log=lambda *_: None)
    print(json.dumps({"process": jax.process_index(), "processes": jax.process_count(),
                      "devices": jax.device_count(), "local_devices": jax.local_device_count(),
                      "status": result.status}))


if __name__ == "__main__":
    main(*sys.argv[1:])
