# Quick start: `make run` (install + run the pipeline over raw/) and `make test` (install + tests).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# One local Dagster instance for `make run` and `make ui`: the UI shows the runs, checks and partitions of `make run`.
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
INSTANCE := $(DAGSTER_HOME)/dagster.yaml

.PHONY: run test ui templates bench lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

$(INSTANCE): deploy/dagster-local.yaml
	mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster-local.yaml $(INSTANCE)

run: $(STAMP) $(INSTANCE)
	DAGSTER_HOME=$(DAGSTER_HOME) $(PY) -m pipeline run --raw raw --out out

test: $(STAMP)
	$(PY) -m pytest

ui: $(STAMP) $(INSTANCE)
	DAGSTER_HOME=$(DAGSTER_HOME) $(PY) -m pipeline partitions --raw raw
	DAGSTER_HOME=$(DAGSTER_HOME) PIPELINE_RAW_ROOT=$(CURDIR)/raw PIPELINE_OUT_ROOT=$(CURDIR)/out \
		$(VENV)/bin/dagster dev -w workspace.yaml

bench: $(STAMP)
	$(PY) -m pipeline bench

templates: $(STAMP)
	$(PY) -m pipeline templates --evaluation 2023-hohhot-pes out/templates

# Re-pin after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf out .dagster_home
