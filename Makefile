# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# The PostgreSQL server `make test-postgres` uses when SSP_TEST_DATABASE_URL is not set; each test
# gets its own database on it.
TEST_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
# Test processes: `auto` is one per CPU core; `0` runs the suite in this process (easier to debug).
TEST_WORKERS ?= auto
# worksteal: each process starts with its half of the suite in order (so a folder's session-wide
# world is built by one process, not both) and takes tests from the other's end once it is done.
# Compiled modules, pytest's rewritten tests among them, are kept under .venv/ rather than beside
# the sources, even where PYTHONDONTWRITEBYTECODE is set: compiling them again cost every test
# process (and every `python -m app` a test starts) seconds of CPU at each run.
PYTEST := env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=$(CURDIR)/$(VENV)/pycache \
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal
# Where bench/intake.py makes (and drops) its database; empty: the script's default.
BENCH_DATABASE_URL ?=

# The big screen's page (/dashboard): bundled from dashboard/ with its libraries from the npm
# registry (exact versions in dashboard/package-lock.json) into app/dashboard/static/.
DASHBOARD_PAGE := app/dashboard/static/index.html
DASHBOARD_MODULES := dashboard/node_modules/.package-lock.json
DASHBOARD_SOURCES := dashboard/build.mjs $(shell find dashboard/src -type f 2>/dev/null)

# The couriers' phone page (/m/): bundled from mobile/ the same way (exact versions in
# mobile/package-lock.json) into app/mobile/static/.
MOBILE_PAGE := app/mobile/static/index.html
MOBILE_MODULES := mobile/node_modules/.package-lock.json
MOBILE_SOURCES := mobile/build.mjs $(shell find mobile/src -type f 2>/dev/null)

.PHONY: run test test-sqlite test-postgres test-pgbouncer lint format install migrate seed clean bench dashboard mobile

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

dashboard: $(DASHBOARD_PAGE)

$(DASHBOARD_MODULES): dashboard/package.json dashboard/package-lock.json
	@command -v npm >/dev/null || { echo "The big screen (/dashboard) is built with node 20 and npm:" \
		"install them (Debian: apt-get install nodejs npm), then run make again."; exit 1; }
	npm --prefix dashboard ci --no-audit --no-fund --loglevel=error
	touch $@

$(DASHBOARD_PAGE): $(DASHBOARD_MODULES) $(DASHBOARD_SOURCES)
	npm --prefix dashboard run --silent build

mobile: $(MOBILE_PAGE)

$(MOBILE_MODULES): mobile/package.json mobile/package-lock.json
	@command -v npm >/dev/null || { echo "The phone page (/m/) is built with node 20 and npm:" \
		"install them (Debian: apt-get install nodejs npm), then run make again."; exit 1; }
	npm --prefix mobile ci --no-audit --no-fund --loglevel=error
	touch $@

$(MOBILE_PAGE): $(MOBILE_MODULES) $(MOBILE_SOURCES)
	npm --prefix mobile run --silent build

run: $(STAMP) $(DASHBOARD_PAGE) $(MOBILE_PAGE)
	mkdir -p data
	SSP_ENV=$${SSP_ENV:-demo} $(BIN)/python -m app migrate
	SSP_ENV=$${SSP_ENV:-demo} $(BIN)/python -m app seed-demo --if-empty
	SSP_ENV=$${SSP_ENV:-demo} $(BIN)/python -m app serve --host $(HOST) --port $(PORT)

# The suite runs on SQLite always, and again on PostgreSQL when SSP_TEST_DATABASE_URL is set.
test: $(STAMP) $(DASHBOARD_PAGE) $(MOBILE_PAGE)
	env -u SSP_TEST_DATABASE_URL $(PYTEST)
	@if [ -n "$$SSP_TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL: $$SSP_TEST_DATABASE_URL"; \
		$(PYTEST); \
	fi

# One database only: SQLite, or PostgreSQL (SSP_TEST_DATABASE_URL, else TEST_POSTGRES_URL).
test-sqlite: $(STAMP) $(DASHBOARD_PAGE) $(MOBILE_PAGE)
	env -u SSP_TEST_DATABASE_URL $(PYTEST)

test-postgres: $(STAMP) $(DASHBOARD_PAGE) $(MOBILE_PAGE)
	SSP_TEST_DATABASE_URL=$${SSP_TEST_DATABASE_URL:-$(TEST_POSTGRES_URL)} $(PYTEST)

# Behind a real PgBouncer in transaction mode (Debian: apt-get install pgbouncer), which each test
# process starts on a free port in front of that server (tests/pgbouncer.py): the tests that only
# PostgreSQL runs, and a smoke run of the rest, concurrent writers among them.
PGBOUNCER_TESTS := tests/core/test_pgbouncer.py tests/processes tests/test_migration_lock.py \
	tests/core/test_database_conflicts.py tests/core/test_database_unavailable.py \
	tests/workflow/test_overdue_batches.py tests/integrations/test_stream.py \
	tests/integrations/test_delivery.py \
	tests/auth/test_auth.py tests/points/test_award.py tests/store/test_redemption_races.py \
	tests/workflow/test_concurrency.py tests/reports/test_idempotency.py \
	tests/reports/test_intake_photos.py tests/reports/test_numbering.py \
	tests/stats/test_ledger_sql.py

test-pgbouncer: $(STAMP)
	SSP_TEST_PGBOUNCER=1 SSP_TEST_DATABASE_URL=$${SSP_TEST_DATABASE_URL:-$(TEST_POSTGRES_URL)} \
		$(PYTEST) $(PGBOUNCER_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench migrations
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff check --fix app tests bench migrations
	$(BIN)/ruff format app tests bench migrations

# The database of `make run` (./data/suishoupai.db unless SSP_DATABASE_URL says otherwise).
migrate: $(STAMP)
	mkdir -p data
	SSP_ENV=$${SSP_ENV:-demo} $(BIN)/python -m app migrate

# The demo organisation and accounts into that database; refused when it already has data.
seed: migrate
	SSP_ENV=$${SSP_ENV:-demo} $(BIN)/python -m app seed-demo

# The benchmarks: they take minutes and write bench/results/; intake needs a PostgreSQL server.
bench: $(STAMP)
	$(BIN)/python bench/locate.py
	$(BIN)/python bench/photo_pillow.py
	$(BIN)/python bench/intake.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL))
	$(BIN)/python bench/reads.py --keep
	$(BIN)/python bench/stats.py --keep
	$(BIN)/python bench/open311.py --keep
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache dashboard/node_modules app/dashboard/static \
	mobile/node_modules app/mobile/static screenshots
