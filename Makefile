# Two commands: `make run` starts the service, `make test` runs the tests. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch is installed on its own and first: an unpinned torch would pull a CUDA build of several GB.
TORCH := torch==2.13.0
# One BLAS thread: numpy's default thread pool thrashes on a small, busy machine.
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: run test check fast bench clean

run: $(VENV)/.installed
	$(BIN)/escalator serve

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# Lint, format and types: what CI runs before the tests.
check: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The tests that load no model and start no server: under a minute.
fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m "not slow"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.torch: | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet $(TORCH)
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.torch
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.encoder_throughput --threads 1
	$(BIN)/python -m bench.pipeline_throughput --threads 1
	$(BIN)/python -m bench.detector_cost
	$(BIN)/python -m bench.pass_memory --backend torch
	$(BIN)/python -m bench.pass_memory --backend onnx

clean:
	rm -rf $(VENV) var test-artifacts
