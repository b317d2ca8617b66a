# relance — the two commands of the README: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-output
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: demo test test-sqlite test-postgres test-future lint bench messages clean

$(BIN)/relance: pyproject.toml
	@# WeasyPrint renders PDFs about 5x faster with HarfBuzz's subsetter (Debian package
	@# libharfbuzz-subset0); installed when possible, else PDFs are just slower.
	@if ! ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			(apt-get install -y -qq libharfbuzz-subset0 >/dev/null 2>&1 || \
			 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq libharfbuzz-subset0 >/dev/null 2>&1)) || \
			echo "note: libharfbuzz-subset0 not installed, PDF rendering will be slower"; \
		else echo "note: install libharfbuzz-subset0 (apt) for faster PDF rendering"; fi; \
	fi
	@# The writing check (relance.writing): libenchant-2 and Debian's hunspell dictionaries (French, British English).
	@if [ ! -f /usr/share/hunspell/fr_FR.dic ] || [ ! -f /usr/share/hunspell/en_GB.dic ] || \
		! ldconfig -p 2>/dev/null | grep -q libenchant-2; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			(apt-get install -y -qq hunspell-fr hunspell-en-gb libenchant-2-2 >/dev/null 2>&1 || \
			 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq hunspell-fr hunspell-en-gb libenchant-2-2)) || \
			echo "note: hunspell-fr, hunspell-en-gb or libenchant-2-2 not installed: the writing check will refuse to run"; \
		else echo "note: install hunspell-fr hunspell-en-gb libenchant-2-2 (apt) for the writing check"; fi; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/relance
	$(BIN)/relance demo --dir $(DEMO_DIR)

lint: $(BIN)/relance
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test-sqlite: $(BIN)/relance
	$(BIN)/pytest -q

test-postgres: $(BIN)/relance
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q -p no:cacheprovider

# The SQLite suite once more, 400 days from now (FUTURE): Debian's faketime (libfaketime) shifts every clock
# that the tests, their subprocesses and Chromium read, so that a test depending on today's date fails
# today rather than next year. CI runs it after `make test`.
FUTURE ?= +400d
test-future: $(BIN)/relance
	@command -v faketime >/dev/null || { echo "faketime is missing: apt-get install faketime" >&2; exit 1; }
	faketime -f '$(FUTURE)' $(BIN)/pytest -q -p no:cacheprovider

# The whole suite: lint, then SQLite, then PostgreSQL when it answers on $(PG_TEST_URL).
test: lint test-sqlite
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		$(MAKE) --no-print-directory test-postgres; \
	elif [ -n "$$CI" ]; then echo "PostgreSQL unreachable at $(PG_TEST_URL): CI requires it" >&2; exit 1; \
	else echo "PostgreSQL unreachable at $(PG_TEST_URL): PostgreSQL pass skipped"; fi

bench: $(BIN)/relance
	$(BIN)/python bench/planning.py

# The interface's English catalog: extract the marked French texts (needs GNU gettext's xgettext and
# msgmerge, Debian package « gettext »), compile django.mo (Babel), list what is left to translate.
messages: $(BIN)/relance
	$(BIN)/python scripts/messages.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) relance-data
