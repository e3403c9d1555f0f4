# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs what it needs; nothing is installed by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOME_DEMO ?= demo-data

.PHONY: demo test lint bench clean docs-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.base: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(VENV)/.base

demo: $(VENV)/.base
	COMMUNE_BIN=$(BIN)/commune COMMUNE_HOME=$(HOME_DEMO) bash scripts/demo.sh

test: $(VENV)/.test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check --quiet src tests
	$(BIN)/python -m pytest

bench: $(VENV)/.base
	bash bench/run.sh

clean:
	rm -rf $(VENV) $(HOME_DEMO) .cache .pytest_cache
