# Two commands: `make run` starts Yiwang with a demo district; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint format bench bench-full openapi messages clean

$(PY):
	@py=$$(scripts/find-python) && "$$py" -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/yiwang serve --demo

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy yiwang
	YIWANG_MODE=test $(BIN)/pytest -n 2 --dist loadfile -m "not postgres"
	@# PostgreSQL-only races run on their own: their transactional tests flush the database.
	@if [[ "$${DATABASE_URL:-}" == postgres* ]]; then YIWANG_MODE=test $(BIN)/pytest -m postgres; fi

lint: $(DEV_STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports && $(BIN)/mypy yiwang

format: $(DEV_STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# The committed API contract; a test fails when it is stale.
openapi: $(DEV_STAMP)
	YIWANG_MODE=test $(BIN)/python -m django spectacular --settings=yiwang.config.settings --validate --fail-on-warn --file docs/openapi.yaml

# The benchmark suite, quick sizes (minutes); `make bench-full` runs the sizes BENCHMARKS.md reports
# and rewrites its sections.
# The English catalogue: extract, (translate the new entries in the .po), compile, check. The
# compiled .mo is committed: CI has no gettext tools.
messages: $(DEV_STAMP)
	YIWANG_MODE=test $(PY) manage.py makemessages -l en --ignore=.venv --ignore=node_modules --ignore=tests --ignore=bench
	YIWANG_MODE=test $(PY) manage.py compilemessages -l en --ignore=.venv
	scripts/translate-check

bench: $(DEV_STAMP)
	$(PY) bench/run.py

bench-full: $(DEV_STAMP)
	$(PY) bench/run.py --full --write

clean:
	rm -rf $(VENV) build *.egg-info
