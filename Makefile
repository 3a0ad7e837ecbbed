# kehu — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-sqlite test-postgres lint format typecheck bench messages openapi clean venv venv-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-base: $(BIN)/python requirements/base.txt pyproject.toml
	$(BIN)/pip install -q -r requirements/base.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-base requirements/dev.txt
	$(BIN)/pip install -q -r requirements/dev.txt
	touch $@

venv: $(VENV)/.installed-base
venv-dev: $(VENV)/.installed-dev

## Run kehu on the embedded default (SQLite under var/) with demo data and one worker.
run: venv
	$(BIN)/kehu migrate -v 0
	$(BIN)/kehu createadmin
	$(BIN)/kehu demo --if-empty
	@echo "kehu: open http://127.0.0.1:8000 (Ctrl+C stops the server and the worker)"
	$(BIN)/kehu serve --host 127.0.0.1 --port 8000 --with-worker

## Every test: SQLite always; PostgreSQL too when KEHU_TEST_DATABASE_URL is set.
test: venv-dev
	@if [ "$$CI" = "true" ] && [ -z "$$KEHU_TEST_DATABASE_URL" ]; then \
	  echo "kehu: CI=true but KEHU_TEST_DATABASE_URL is not set: the PostgreSQL suite would be skipped."; exit 1; fi
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$KEHU_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	  else echo "kehu: KEHU_TEST_DATABASE_URL not set; PostgreSQL suite not run."; fi

test-sqlite: venv-dev
	env -u DATABASE_URL KEHU_ENV=test $(BIN)/pytest -m "not postgres" $(PYTEST_ARGS)

test-postgres: venv-dev
	DATABASE_URL="$$KEHU_TEST_DATABASE_URL" KEHU_ENV=test $(BIN)/pytest $(PYTEST_ARGS)

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: venv-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: venv-dev
	$(BIN)/mypy kehu/core/access.py kehu/core/audit.py kehu/core/selectors.py kehu/accounts/services.py kehu/accounts/selectors.py kehu/customers/services.py kehu/customers/selectors.py kehu/customers/tags.py kehu/sales/money.py kehu/sales/services.py kehu/sales/selectors.py

## Benchmarks (not tests): figures go to bench/results/*.json.
bench: venv-dev
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## Extract and compile the translation catalogues (en, zh_Hans, zh_Hant).
messages: venv-dev
	cd kehu && ../$(BIN)/django-admin makemessages --settings=kehu.settings -l en -l zh_Hans -l zh_Hant --no-obsolete --no-location --ignore 'static/*' --ignore 'demo/*'
	cd kehu && ../$(BIN)/django-admin compilemessages --settings=kehu.settings

## Regenerate the committed OpenAPI schema (a test fails when it drifts).
openapi: venv-dev
	$(BIN)/python -m kehu.core.openapi_dump > docs/openapi.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
