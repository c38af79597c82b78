# Two commands do all the set-up: `make synth` and `make test`. Everything lands in the
# repository: the virtualenv in .venv (with Node 24 from PyPI), the CDK CLI in node_modules.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
BIN         := $(CURDIR)/$(VENV)/bin
# jsii runs the first `node` on PATH: the virtualenv's Node 24, not the machine's.
export PATH := $(BIN):$(PATH)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# The first interpreter that runs and is 3.11+ (pyenv shims exist for versions that are not active).
PYTHON_CANDIDATES := python3 python3.13 python3.12 python3.11
HOST_PYTHON ?= $(shell for p in $(PYTHON_CANDIDATES); do $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v $$p; break; }; done)
SETUP_STAMP := $(VENV)/.setup-stamp
BYTECODE_STAMP := $(VENV)/.bytecode-stamp
NODE_STAMP  := node_modules/.install-stamp
CONFIG      ?= config/default.yaml
USAGE       ?= config/usage.yaml
CDK_OUT     ?= cdk.out
PYTEST_ARGS ?=

.PHONY: help setup synth test lint bench docs clean

help:
	@echo "make synth   set up what is missing, synthesize the platform into $(CDK_OUT), print the review summary"
	@echo "make test    set up what is missing and run the whole test suite"
	@echo "make lint    ruff and mypy;  make bench  benchmarks;  make docs  regenerate generated docs"

setup: $(SETUP_STAMP) $(BYTECODE_STAMP) $(NODE_STAMP)

$(SETUP_STAMP): pyproject.toml
	@if [ -z "$(HOST_PYTHON)" ]; then echo "make: Python 3.11 or newer is required and none of $(PYTHON_CANDIDATES) is; install one or set HOST_PYTHON" >&2; exit 1; fi
	@test -x $(BIN)/python || $(HOST_PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip index versions pip >/dev/null 2>&1 || \
		{ echo "make: cannot reach the Python package index (pip index versions pip failed); check the network or PIP_INDEX_URL" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# cdk.json runs the app with `python -O` (stacks/app_command.py); pip compiles only the
# unoptimized bytecode, and without the optimized one every synth would compile aws-cdk-lib.
$(BYTECODE_STAMP): $(SETUP_STAMP)
	$(BIN)/python -m compileall -q -j 0 -o 1 "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null
	@touch $@

$(NODE_STAMP): package.json package-lock.json $(SETUP_STAMP)
	@$(BIN)/npm ping >/dev/null 2>&1 || \
		{ echo "make: cannot reach the npm registry (npm ping failed); check the network or npm's registry setting" >&2; exit 1; }
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	@touch $@

synth: setup
	rm -rf $(CDK_OUT)
	$(BIN)/npx cdk synth --quiet --output $(CDK_OUT) -c config=$(CONFIG)
	$(BIN)/mlplatform summary $(CDK_OUT) --config $(CONFIG) --usage $(USAGE)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app.py stacks constructs_lib lambdas mlplatform

bench: setup
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

docs: setup
	$(BIN)/python -m stacks.config.reference_doc --output docs/configuration.md
	$(BIN)/python -m stacks.nag_report --output docs/nag-acknowledgements.md

clean:
	rm -rf $(CDK_OUT) .bundle-cache .pytest_cache .mypy_cache .ruff_cache
