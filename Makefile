# Two commands for a fresh machine: `make run` and `make test`.
# Any Python 3.11 or newer on the PATH (the first that answers, newest first); PY=... overrides.
PY ?= $(firstword $(foreach p,python3 python3.13 python3.12 python3.11,$(shell command -v $(p) >/dev/null 2>&1 && $(p) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $(p))))
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-unit test-python test-server test-embedded bench lint migrate clean browser-deps

$(STAMP): pyproject.toml
	@test -n "$(PY)" || { echo "needs Python 3.11 or newer on the PATH (python3, python3.1x)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

## Set up, apply migrations and serve the API on 127.0.0.1:8000 (embedded PostgreSQL 18
## in ./.data unless ECOM_DATABASE_URL is set).
run: $(STAMP)
	$(BIN)/ecom serve

migrate: $(STAMP)
	$(BIN)/ecom migrate

## The whole suite: unit tests, then integration and e2e against the embedded PostgreSQL 18
## and, when one answers there, the PostgreSQL server at 127.0.0.1:5432, both runs at once
## (tests/run_on_both_servers.sh).
test: $(STAMP) browser-deps
	$(BIN)/ruff check .
	$(BIN)/pytest -q tests/unit
	BIN=$(BIN) tests/run_on_both_servers.sh

## The console's browser tests (tests/browser) drive the system's Chromium (Debian packages,
## never a downloaded browser); installed here when /usr/bin/chromium is missing (needs root).
browser-deps:
	@test -x /usr/bin/chromium || { \
		echo "== installing chromium and chromium-driver (apt-get) for tests/browser =="; \
		apt-get update -q && apt-get install -y -q chromium chromium-driver; }

test-unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

## Another Python (CI runs it for every 3.12+ the machine has): the unit tests, then the order
## API end to end on the embedded PostgreSQL 18. E.g. make test-python PY=python3.13 VENV=.venv-3.13
test-python: $(STAMP)
	$(BIN)/python --version
	$(BIN)/pytest -q tests/unit
	ECOM_TEST_POSTGRES=embedded $(BIN)/pytest -q tests/e2e/test_orders_api.py tests/e2e/test_order_saga.py

test-server: $(STAMP)
	ECOM_TEST_POSTGRES=server $(BIN)/pytest -q tests

test-embedded: $(STAMP)
	ECOM_TEST_POSTGRES=embedded $(BIN)/pytest -q tests

## Every benchmark (bench/all.py) against the PostgreSQL server at 127.0.0.1:5432, each figure
## beside its baseline from the same run; under ten minutes (ECOM_BENCH_SERVER_URL overrides).
bench: $(STAMP)
	$(BIN)/python -m bench.all

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
