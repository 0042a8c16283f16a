# The two commands a new machine needs are `make run` and `make test`; both set up
# what they need themselves (a .venv with the pinned packages, the local DynamoDB)
# and are safe to run again.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed

export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test bench bench-full lint format lock setup browser clean

setup: $(STAMP_PY) $(STAMP_NODE)

# Reinstall only when a requirements file changes.
$(STAMP_PY): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	@touch $@

# dynalite, the embedded DynamoDB, pinned by package-lock.json.
$(STAMP_NODE): package.json package-lock.json
	@command -v node >/dev/null && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
		|| { echo "Node.js >= 20 is required (for the embedded DynamoDB, dynalite); found: $$(node --version 2>/dev/null || echo none)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's Chromium, for the real-browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

var:
	@mkdir -p var

# Starts dynalite (data under var/), migrates, creates the tables and serves
# http://127.0.0.1:8000/ until Ctrl-C.
run: export DEBUG ?= 1
# dynalite reports no index units: count them, so the ops page's bill has them.
run: export DYNAMODB_COUNT_INDEX_UNITS ?= 1
# Web, worker and beat processes each count metrics; /metrics adds up what they write here.
run: export PROMETHEUS_MULTIPROC_DIR = $(CURDIR)/var/prometheus
run: setup var
	@rm -rf var/prometheus && mkdir -p var/prometheus
	honcho start

test: setup browser
	pytest

# Speed and cost against raw boto3 on the same embedded DynamoDB (docs/performance.md):
# prints a table and writes bench/results.json (bench-full: bench/results-full.json).
# `bench` takes a few minutes; `bench-full` loads 100k decisions and takes about twenty.
bench: setup
	python -m bench --size short

bench-full: setup
	python -m bench --size full --out bench/results-full.json

lint: setup
	ruff check .
	ruff format --check .

format: setup
	ruff format .
	ruff check --fix .

# Recompile the pinned requirements from requirements*.in.
lock: $(STAMP_PY)
	pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements-dev.txt requirements-dev.in

clean:
	rm -rf $(VENV) node_modules var .pytest_cache
