# govchain — the two commands: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
PY_OK  := $(VENV)/.installed
NPM_OK := node_modules/.installed
WEB_OK := $(VENV)/.browser-installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Python caches compiled bytecode (__pycache__, gitignored) here even when the shell says not to:
# with PYTHONDONTWRITEBYTECODE set (this machine's shell sets it) each of the dozens of Python
# processes a test run starts compiles every module it imports again (importing api.app: 4.9 s
# of CPU without the cache, 2.5 s with; collecting the suite: 15 s against 4.4 s; docs/testing.md).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test test-anvil check lint install compile clean bench drills slither

# Test workers (pytest-xdist, whole modules per worker): each runs its own node, deployment and stack.
# Two: three were slower on the same tree (ganache pass 8 min 05 s against 7 min 42 s; see docs/testing.md).
WORKERS ?= 2
# How xdist hands out tests: whole modules (loadscope) or one test at a time (load).
DIST ?= loadscope
# The unit tests of `make check`: no node, no stack, no browser, no database server, no process started.
UNIT := not chain and not slow and not pages and not db and not proc

run: install ## set up, then node + deploy + API on 127.0.0.1:8000 (Ctrl-C stops all)
	$(VENV)/bin/govchain up

# Every test on ganache; then what depends on the node (marked `node`: transactions, nonces,
# receipts, reverts, logs, restarts, one smoke run of each end-to-end flow) on anvil too.
test: install $(WEB_OK) lint ## set up, lint, then every test on ganache, then the node-dependent ones on anvil
	$(PY) -m pytest -n $(WORKERS) --dist $(DIST) --durations=25
	GOVCHAIN_NODE=anvil $(PY) -m pytest -m node -n $(WORKERS) --dist $(DIST) -q --durations=10

test-anvil: install $(WEB_OK) ## every test on anvil
	GOVCHAIN_NODE=anvil $(PY) -m pytest -n $(WORKERS) --dist $(DIST)

check: lint ## the inner loop, under a minute: lint, import layering, type check, the unit tests (no node, no stack)
	$(PY) -m pytest -m "$(UNIT)" -n $(WORKERS) -q

lint: install ## ruff (lint and format), import-linter (which package may import which) and mypy, all configured in pyproject.toml
	$(VENV)/bin/ruff check chain identity httpkit gateway api scripts tests
	$(VENV)/bin/ruff format --check chain identity httpkit gateway api scripts tests
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# The Python and the npm installs side by side (each mostly waits on the network and the disk).
install:
	@$(MAKE) --no-print-directory -j2 $(PY_OK) $(NPM_OK)

drills: install ## fault and load drills, full forms (kill -9 API/gateway, node restart, chain down, 200 clients): a pass/fail table
	$(PY) scripts/drills.py

BENCH_OK := $(VENV)/.bench-installed

$(BENCH_OK): pyproject.toml | $(PY_OK)
	$(UV) pip install --quiet --python $(PY) -e '.[test,bench]'
	@touch $@

bench: install $(BENCH_OK) ## gas against floors, throughput against OpenAttestation, end to end on fresh ganache and anvil (< 10 min)
	$(PY) scripts/bench.py

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "govchain needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)

# uv installs the same packages from PyPI as pip would, about ten times faster (8 s against 2 min
# in a fresh venv here): CI installs from scratch on every run.
$(PY_OK): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet uv
	$(UV) pip install --quiet --python $(PY) -e '.[test]'
	@touch $@

$(NPM_OK): package.json package-lock.json
	npm ci --no-audit --no-fund --prefer-offline
	@touch $@

# The page tests' browser: Debian's chromium (Playwright's own browser download is not used), and a
# CJK font so the screenshots show the Chinese labels. apt runs only for what is missing;
# GOVCHAIN_CHROMIUM names another Chromium executable instead.
$(WEB_OK): | $(PY)
	@pkgs=""; \
	[ -x "$${GOVCHAIN_CHROMIUM:-/usr/bin/chromium}" ] || pkgs="chromium"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || pkgs="$$pkgs fonts-wqy-zenhei"; \
	if [ -n "$$pkgs" ]; then \
	  echo "installing$$pkgs for the browser tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$pkgs; \
	fi
	@touch $@

slither: $(NPM_OK) ## static analysis of contracts/ (own venv: slither pins web3 7); every finding fixed or justified in contracts/SLITHER.md
	[ -x .venv-slither/bin/slither ] || { $(PYTHON) -m venv .venv-slither && .venv-slither/bin/pip install --quiet "slither-analyzer==0.11.6"; }
	.venv-slither/bin/python scripts/slither.py

compile: install
	$(VENV)/bin/govchain compile

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache test-artifacts
