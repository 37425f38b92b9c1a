# Set-up is automatic: every target creates .venv with the machine's python3 and installs
# .[all,dev] into it when pyproject.toml changed since the last install.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

install: $(STAMP)

# Also installs the third-party sink plugin that the registry tests select from a config file.
$(STAMP): pyproject.toml tests/fixtures/sink_plugin/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[all,dev]'
	$(PY) -m pip install --quiet -e tests/fixtures/sink_plugin
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/hackmatrix train

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check hackmatrix tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/env_throughput.py

clean:
	rm -rf $(VENV) runs mlflow.db mlruns wandb .pytest_cache
