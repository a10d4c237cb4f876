# Quick start: `make run` (install + run the pipeline over raw/) and `make test` (install + checks + tests).
# Any Python from 3.11 on: `make run PYTHON=python3.12`. A .venv built with another Python is rebuilt.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# One local Dagster instance for `make run` and `make ui`: the UI shows the runs, checks and partitions of `make run`.
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
INSTANCE := $(DAGSTER_HOME)/dagster.yaml

WANT := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
HAVE := $(shell test -x $(PY) && $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifeq ($(WANT),)
$(error $(PYTHON) not found: install Python 3.11 or later, or name one with PYTHON=...)
endif
ifneq ($(shell $(PYTHON) -c 'import sys; print(sys.version_info >= (3, 11))'),True)
$(error $(PYTHON) is Python $(WANT); the pipeline needs Python 3.11 or later)
endif
ifneq ($(HAVE),)
ifneq ($(HAVE),$(WANT))
$(info $(VENV) was built with Python $(HAVE); rebuilding it with $(PYTHON) (Python $(WANT)))
$(shell rm -rf $(VENV))
endif
endif

.PHONY: run test test-unit check format ui templates bench bench-queue lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.lock
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	touch $(DEV_STAMP)

$(INSTANCE): deploy/dagster-local.yaml
	mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster-local.yaml $(INSTANCE)

run: $(STAMP) $(INSTANCE)
	DAGSTER_HOME=$(DAGSTER_HOME) $(PY) -m pipeline run --raw raw --out out

# Lint, format and types first: a test run on code that does not pass them is not a test of the product.
test: check
	$(PY) -m pytest

# The fast tests alone (no Dagster run, no browser, no PostgreSQL): what CI also runs on other Pythons.
test-unit: $(DEV_STAMP)
	$(PY) -m pytest tests/unit

check: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(DEV_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# `partitions` also creates and migrates the instance store before `dagster dev` starts the webserver and the
# daemon together (on an empty SQLite store they would race to migrate it).
ui: $(STAMP) $(INSTANCE)
	DAGSTER_HOME=$(DAGSTER_HOME) $(PY) -m pipeline partitions --raw raw
	DAGSTER_HOME=$(DAGSTER_HOME) PIPELINE_RAW_ROOT=$(CURDIR)/raw PIPELINE_OUT_ROOT=$(CURDIR)/out \
		$(VENV)/bin/dagster dev -w workspace.yaml

bench: $(STAMP)
	$(PY) -m pipeline bench

# 50 Hohhot-sized evaluations through the Dagster run queue (PostgreSQL, daemon, concurrency 2); needs a local
# PostgreSQL and root (it creates a throwaway role and database as the postgres user, and drops them).
bench-queue: $(STAMP)
	$(PY) -m pipeline bench-queue

templates: $(STAMP)
	$(PY) -m pipeline templates --evaluation 2023-hohhot-pes out/templates

# Re-pin after changing dependencies in pyproject.toml: pins already in a lock are kept unless pyproject
# needs another version; every pin carries its hashes, for every supported Python (universal resolution).
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock"
lock: $(DEV_STAMP)
	$(LOCK) -o requirements.lock
	$(LOCK) --extra test --extra dev -c requirements.lock -o requirements-dev.lock
	$(VENV)/bin/uv pip compile deploy/k8s.in --quiet --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make lock" -c requirements.lock -o deploy/requirements-k8s.lock

clean:
	rm -rf out .dagster_home $(VENV) .venv-*
