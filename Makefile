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

LABEXT := labextension
JLPM := PATH="$(CURDIR)/$(BIN):$$PATH" $(CURDIR)/$(BIN)/jlpm

.PHONY: lab test lint typecheck pytest bench clean venv seed browser-deps hub-deps \
	labextension-build labextension-lint labextension-test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,local]"
	# the editable install does not publish the prebuilt extension: link it (as
	# `jupyter labextension develop` would) so every later build is live
	mkdir -p $(VENV)/share/jupyter/labextensions
	ln -sfn $(CURDIR)/llmlab_jupyter/labextension $(VENV)/share/jupyter/labextensions/llmlab-jupyter
	touch $(STAMP)

venv: $(STAMP)

$(LABEXT)/node_modules/.installed: $(STAMP) $(LABEXT)/package.json $(LABEXT)/yarn.lock
	cd $(LABEXT) && $(JLPM) install
	touch $@

labextension-build: $(LABEXT)/node_modules/.installed
	cd $(LABEXT) && $(JLPM) build

labextension-lint: $(LABEXT)/node_modules/.installed
	cd $(LABEXT) && $(JLPM) lint:check

labextension-test: $(LABEXT)/node_modules/.installed
	cd $(LABEXT) && $(JLPM) test

# Browser tests drive Debian's Chromium (never a downloaded browser).
browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed: browser tests will be skipped"; fi; }

# JupyterHub's proxy (configurable-http-proxy) for the tests on a real Hub (tests/hub/),
# pinned by deploy/proxy/package-lock.json; the Hub finds it on PATH as
# deploy/proxy/node_modules/.bin/configurable-http-proxy.
PROXY := deploy/proxy
$(PROXY)/node_modules/.installed: $(PROXY)/package.json $(PROXY)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is not installed: the JupyterHub tests will be skipped"; exit 0; }; \
	  npm ci --prefix $(PROXY) --no-audit --no-fund --loglevel=error && touch $@

hub-deps: $(PROXY)/node_modules/.installed

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) labextension-build browser-deps hub-deps
	$(BIN)/python -m pytest -p no:cacheprovider

test: lint typecheck labextension-lint labextension-test pytest

seed: $(STAMP)
	$(BIN)/llmlab db upgrade
	$(BIN)/python -m llmlab_jupyter.demo

lab: seed labextension-build
	$(BIN)/jupyter lab $(ROOT_FLAG) --no-browser --ip=127.0.0.1 --port=$(LAB_PORT) \
		--ServerApp.root_dir=$(CURDIR)/notebooks

bench: $(STAMP)
	for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache
