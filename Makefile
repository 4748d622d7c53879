# govchain — the two commands: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PY_OK  := $(VENV)/.installed
NPM_OK := node_modules/.installed

.PHONY: run test test-anvil install compile clean

run: install ## set up, then node + deploy + API on 127.0.0.1:8000 (Ctrl-C stops all)
	$(VENV)/bin/govchain up

test: install ## set up, then every test (ganache), then the chain-facing tests on anvil
	$(PY) -m pytest
	GOVCHAIN_NODE=anvil $(PY) -m pytest -m chain -q

test-anvil: install
	GOVCHAIN_NODE=anvil $(PY) -m pytest

install: $(PY_OK) $(NPM_OK)

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "govchain needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)

$(PY_OK): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

$(NPM_OK): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

compile: install
	$(VENV)/bin/govchain compile

clean:
	rm -rf build .pytest_cache test-artifacts
