# relance — the two commands of the README: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-output
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: demo test test-sqlite test-postgres lint bench clean

$(BIN)/relance: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/relance
	$(BIN)/relance demo --dir $(DEMO_DIR)

lint: $(BIN)/relance
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test-sqlite: $(BIN)/relance
	$(BIN)/pytest -q

test-postgres: $(BIN)/relance
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q -p no:cacheprovider

# The whole suite: lint, then SQLite, then PostgreSQL when it answers on $(PG_TEST_URL).
test: lint test-sqlite
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		$(MAKE) --no-print-directory test-postgres; \
	elif [ -n "$$CI" ]; then echo "PostgreSQL unreachable at $(PG_TEST_URL): CI requires it" >&2; exit 1; \
	else echo "PostgreSQL unreachable at $(PG_TEST_URL): PostgreSQL pass skipped"; fi

bench: $(BIN)/relance
	$(BIN)/python bench/planning.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) relance-data
