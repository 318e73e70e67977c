# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres lint format install migrate seed clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	mkdir -p data
	SSP_ENV=$${SSP_ENV:-demo} $(BIN)/python -m app migrate
	SSP_ENV=$${SSP_ENV:-demo} $(BIN)/python -m app seed-demo --if-empty
	SSP_ENV=$${SSP_ENV:-demo} $(BIN)/python -m app serve --host $(HOST) --port $(PORT)

# The suite runs on SQLite always, and again on PostgreSQL when SSP_TEST_DATABASE_URL is set.
test: $(STAMP)
	env -u SSP_TEST_DATABASE_URL $(BIN)/python -m pytest -q
	@if [ -n "$$SSP_TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL: $$SSP_TEST_DATABASE_URL"; \
		$(BIN)/python -m pytest -q; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench migrations
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix app tests bench migrations
	$(BIN)/ruff format app tests bench migrations

migrate: $(STAMP)
	$(BIN)/python -m app migrate

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
