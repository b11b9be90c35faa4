# Two commands do all set-up on a fresh machine:
#   make lab   - venv, build, migrate, seed a demo project, start JupyterLab
#   make test  - everything CI checks (lint, types, tests on SQLite and PostgreSQL, audit)
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
	labextension-build labextension-lint labextension-test audit lock

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

test: lint typecheck labextension-lint labextension-test pytest audit

# Known vulnerabilities in what the images ship (deploy/requirements.lock, via pip-audit
# --require-hashes --disable-pip) and in the extension's production npm packages; fails on
# any. Audit services that do not answer are reported (AUDIT_STRICT=1 fails on them too).
audit: $(STAMP)
	$(BIN)/python deploy/audit.py

# Recompile the images' hashed lock files from deploy/requirements*.in (after a change to
# pyproject.toml's dependencies, or to take fixes) with uv (in the dev extra).
UV_COMPILE := $(BIN)/uv pip compile --generate-hashes --python-version 3.11 \
	--python-platform linux --only-binary :all:
lock: $(STAMP)
	$(UV_COMPILE) deploy/requirements.in -o deploy/requirements.lock \
		--no-emit-package llmlab-jupyter
	$(UV_COMPILE) deploy/requirements-build.in -o deploy/requirements-build.lock

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
