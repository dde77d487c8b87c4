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

.PHONY: help setup system-deps torch demo test lint typecheck pytest notebooks lab requirements benchmark clean

help:
	@echo "make demo        set up and run the demo"
	@echo "make test        set up and run every check (adds torch to .venv for the PyTorch bridge)"
	@echo "make benchmark   compare the engine with micrograd 0.1.0 and PyTorch (installs torch into .venv),"
	@echo "                 and time the pictures (GIFs, players of big graphs)"
	@echo "make lab         open the notebooks (the lessons) in JupyterLab"
	@echo "make notebooks   re-execute the notebooks and save their outputs"
	@echo "make requirements  re-pin requirements/dev.txt after changing pyproject.toml"

setup: system-deps $(VENV)/.synced

# Install each Debian package whose program is missing: dot (graphviz) draws the graphs,
# chromium runs the browser tests of the backprop player, and a font with Chinese glyphs
# (fonts-noto-cjk, found by fontconfig's fc-list) draws Chinese labels instead of empty boxes.
system-deps:
	@missing=""; \
	command -v dot >/dev/null || missing="$$missing graphviz"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v fc-list >/dev/null || missing="$$missing fontconfig"; \
	{ command -v fc-list >/dev/null && [ -n "$$(fc-list :lang=zh)" ]; } || missing="$$missing fonts-noto-cjk"; \
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

# Every extra but torch (which the `torch` target adds with pip): list a new extra here.
DEV_EXTRAS := plot notebook widget testing dev

requirements: | $(UV)
	$(UV) pip compile --quiet pyproject.toml $(DEV_EXTRAS:%=--extra %) --python-version 3.11 \
	  --custom-compile-command "make requirements" -o requirements/dev.txt

demo: setup
	$(VENV)/bin/microgradx demo

test: setup torch lint typecheck pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo --no-cache

typecheck: setup
	$(VENV)/bin/mypy --strict microgradx

pytest: setup torch
	$(PY) -m pytest tests --nbmake notebooks

# Re-execute every notebook (both languages) top to bottom and save its outputs (pictures
# included) in the file. Each runs in its own folder: that is how a notebook knows its language.
notebooks: setup
	$(PY) -c 'import sys, pathlib, nbclient, nbformat; \
	[nbformat.write(nbclient.NotebookClient(nbformat.read(p, 4), timeout=300, \
	  resources={"metadata": {"path": str(pathlib.Path(p).parent)}}).execute(), p) for p in sys.argv[1:]]' \
	  notebooks/[0-9]*.ipynb notebooks/zh/[0-9]*.ipynb

# Open the notebooks in JupyterLab (in your browser).
lab: setup
	$(VENV)/bin/jupyter lab notebooks

# PyTorch is the oracle of tests/test_bridge.py (interop.to_torch, from_torch) and gives
# benchmarks/engine.py a reference row; it is never a dependency of the project (an extra,
# kept out of requirements/dev.txt). Only this version, with the system's pip: these machines
# keep its CPU wheel on disk (pip's find-links), where uv or any other version would fetch a
# multi-GB CUDA build. The first pip call takes torch from that local wheel only (--no-index),
# so where no such wheel lies nothing big is downloaded; the second adds its small
# dependencies. If either fails, the bridge tests skip (and fail in CI) and the benchmark
# skips its PyTorch row.
# `uv pip sync` removes what requirements/dev.txt does not list, torch included, so the stamp
# depends on $(VENV)/.synced: redone (a few seconds from the local wheel) after every sync,
# and otherwise nothing to do, which keeps `make test` quick. `make demo` never needs it.
TORCH := torch==2.13.0
PIP_INTO_VENV := $(PYTHON) -m pip --python $(PY) install --quiet --disable-pip-version-check

torch: $(VENV)/.torch

$(VENV)/.torch: $(VENV)/.synced
	@if $(PY) -c 'import torch' 2>/dev/null \
	  || { $(PIP_INTO_VENV) --no-index --no-deps $(TORCH) && $(PIP_INTO_VENV) $(TORCH); }; \
	then touch $@; \
	else echo "could not install $(TORCH) into $(VENV): tests/test_bridge.py will skip" \
	  "(fail in CI), the benchmark skips its PyTorch row"; fi

benchmark: setup torch
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/train.py
	$(PY) benchmarks/gradcheck.py
	$(PY) benchmarks/viz.py

clean:
	rm -rf $(TOOLS) $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis out
