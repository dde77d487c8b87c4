# Two commands do everything on a fresh Debian machine:
#   make demo   set up, then run the main job
#   make test   set up, then run every check (lint, types, tests, notebooks)
# Set-up installs the system programs the project needs (apt-get, with sudo when not root),
# bootstraps uv into .tools/ and syncs .venv/ from the pinned requirements/dev.txt.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := graphviz

.PHONY: help setup system-deps demo test lint typecheck pytest notebooks requirements benchmark clean

help:
	@echo "make demo        set up and run the demo"
	@echo "make test        set up and run every check"
	@echo "make benchmark   compare the engine with micrograd 0.1.0"
	@echo "make notebooks   re-execute the notebooks and save their outputs"
	@echo "make requirements  re-pin requirements/dev.txt after changing pyproject.toml"

setup: system-deps $(VENV)/.synced

# Install each Debian package whose program is missing: dot (graphviz) draws the graphs,
# chromium runs the browser tests of the backprop player.
system-deps:
	@missing=""; \
	command -v dot >/dev/null || missing="$$missing graphviz"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Redone only when the pinned requirements or the project metadata change.
$(VENV)/.synced: requirements/dev.txt pyproject.toml | $(UV)
	[ -x $(PY) ] || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet requirements/dev.txt
	$(UV) pip install --quiet -e . --no-deps
	touch $@

requirements: | $(UV)
	$(UV) pip compile --quiet pyproject.toml --all-extras --python-version 3.11 \
	  --custom-compile-command "make requirements" -o requirements/dev.txt

demo: setup
	$(VENV)/bin/microgradx demo

test: setup lint typecheck pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo --no-cache

typecheck: setup
	$(VENV)/bin/mypy --strict microgradx

pytest: setup
	$(PY) -m pytest tests --nbmake notebooks

# Re-execute every notebook top to bottom and save its outputs (pictures included) in the file.
notebooks: setup
	$(PY) -c 'import sys, nbclient, nbformat; \
	[nbformat.write(nbclient.NotebookClient(nbformat.read(p, 4), timeout=300, \
	  resources={"metadata": {"path": "notebooks"}}).execute(), p) for p in sys.argv[1:]]' notebooks/*.ipynb

benchmark: setup
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/train.py
	$(PY) benchmarks/gradcheck.py

clean:
	rm -rf $(TOOLS) $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis out
