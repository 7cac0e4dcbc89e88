# The README's quick start: `make demo` and `make test`. Each target creates .venv
# when it is missing and installs what it needs into it.

ifndef PYTHON
PYTHON := $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& echo $$p && break; done)
endif
SOURCES := $(wildcard debugpages tests benchmarks)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint bench soak clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "debugpages needs Python 3.11 or newer (none found on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.dev: $(BIN)/python pyproject.toml
	$(PIP) install -e '.[dev]'
	@touch $@

$(VENV)/.bench: $(VENV)/.dev
	$(PIP) install -e '.[dev,bench]'
	@touch $@

demo: $(VENV)/.dev
	$(BIN)/debugpages demo

lint: $(VENV)/.dev
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy --strict debugpages

test: lint
	$(BIN)/pytest

bench: $(VENV)/.bench
	$(BIN)/python benchmarks/bench.py

soak: $(VENV)/.bench
	$(BIN)/python benchmarks/soak.py

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache .hypothesis artifacts
