# The README's quick start: `make demo` and `make test`. Each target creates its virtual
# environment when it is missing and installs what it needs into it: `make demo` the
# package alone (werkzeug and Jinja), `make test` the test and lint tools too.
#
#   make test PYTHON=python3.12          # that Python, in a virtual environment of its own
#   make demo PORT=8000 HOST=localhost   # the demo on another port or address

ifdef PYTHON
ifndef VENV  # one environment per Python: .venv-3.12 for a 3.12 (VENV= names another)
VENV := .venv-$(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
endif
else
PYTHON := $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& echo $$p && break; done)
endif
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 5000
SOURCES := $(wildcard debugpages tests benchmarks)
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint bench soak clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 || { \
		echo "debugpages needs Python 3.11 or newer: '$(PYTHON)' is missing or older (PYTHON= names another)"; \
		exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run: $(BIN)/python pyproject.toml
	$(PIP) install -e .
	@touch $@

$(VENV)/.dev: $(BIN)/python pyproject.toml
	$(PIP) install -e '.[dev]'
	@touch $@

$(VENV)/.bench: $(VENV)/.dev
	$(PIP) install -e '.[dev,bench]'
	@touch $@

demo: $(VENV)/.run
	$(BIN)/debugpages demo --host $(HOST) --port $(PORT)

lint: $(VENV)/.dev
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy --strict debugpages

test: lint
	$(BIN)/pytest

bench: $(VENV)/.bench
	$(BIN)/python benchmarks/bench.py $(ARGS)

soak: $(VENV)/.bench
	$(BIN)/python benchmarks/soak.py $(ARGS)

clean:
	rm -rf .venv .venv-3.* $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache .hypothesis artifacts
