# Two commands do all set-up on a fresh machine:
#   make lab   - venv, build, migrate, seed a demo project, start JupyterLab
#   make test  - everything CI checks (lint, types, tests on SQLite and PostgreSQL)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_PORT ?= 8888
ROOT_FLAG := $(shell [ "$$(id -u)" = "0" ] && echo --allow-root)
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: lab test lint typecheck pytest bench clean venv seed

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider

test: lint typecheck pytest

seed: $(STAMP)
	$(BIN)/llmlab db upgrade
	$(BIN)/python -m llmlab_jupyter.demo

lab: seed
	$(BIN)/jupyter lab $(ROOT_FLAG) --no-browser --ip=127.0.0.1 --port=$(LAB_PORT) \
		--ServerApp.root_dir=$(CURDIR)/notebooks

bench: $(STAMP)
	for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache
