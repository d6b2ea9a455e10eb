# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test test-postgres lint check-migrations messages check-messages install clean help bench

help:
	@echo "make demo            set up and start the demo site (ASGI server with the live chat, and the worker) on http://$(HOST):$(PORT)/"
	@echo "make test            set up and run the whole test suite (SQLite)"
	@echo "make test-postgres   the suite against PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)"
	@echo "make lint            ruff"
	@echo "make messages        update and compile locale/it"
	@echo "make bench           scale benchmark on PostgreSQL: SIZE=100k (10k|100k|1m), SIZES=\"10k 100k 1m\", RUNS=7, COMPARE=1 (django-helpdesk side by side)"

$(PY):
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found: install it (python3.11)"; exit 1; }
	@$(PYTHON) -c "import sys; sys.exit(sys.version_info < (3, 11))" || { echo "Python 3.11 or newer is needed"; exit 1; }
	@echo "==> Creating the virtualenv $(VENV)…"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the dependency declarations change.
# The first install shows pip's progress (it takes a few minutes); updates are quiet.
$(VENV)/.installed: $(PY) setup.cfg pyproject.toml requirements/example.txt
	@if [ -f $@ ]; then echo "==> Updating the Python packages…"; quiet=--quiet; \
	else echo "==> Installing the Python packages (the first time takes a few minutes)…"; quiet=; fi; \
	$(PY) -m pip install $$quiet --disable-pip-version-check -e ".[test,ai,scale]" -r requirements/example.txt
	@touch $@

install: $(VENV)/.installed

demo: install
	@mkdir -p var
	@echo "==> Migrating the database…"
	@$(PY) manage.py migrate --noinput
	@echo "==> Building the demo data (the first time about a minute)…"
	@$(PY) manage.py helpdesk_demo --base-url "http://$(HOST):$(PORT)" --no-logins
	@echo "==> Computing the AI assist's text embeddings (on this machine, nothing leaves it)…"
	@$(PY) manage.py helpdesk_ai_backfill || echo "    No text model here: similar tickets use lexical search only (docs/ai.md)."
	@bash scripts/run-demo.sh "$(PY)" "$(HOST)" "$(PORT)"

test: install
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

check-migrations: install
	$(PY) manage.py makemigrations --check --dry-run

messages: install
	cd wagtail_helpdesk && ../$(PY) ../manage.py makemessages -l it --no-obsolete --add-location file
	cd wagtail_helpdesk && ../$(PY) ../manage.py compilemessages -l it

check-messages: install
	$(PY) scripts/check_messages.py

# The scale benchmark (docs/scale.md): builds or reuses bench_<size> on the
# PostgreSQL server BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432),
# measures the pages, then django-helpdesk's at the same size (COMPARE=1), and
# prints the table (and the growth table when SIZES has several sizes).
SIZE ?= 100k
SIZES ?= $(SIZE)
RUNS ?= 7
COMPARE ?= 1
bench: install
	@mkdir -p var/bench
	@for size in $(SIZES); do \
	  $(PY) -m bench.scale.pages --size $$size --runs $(RUNS) $(BENCH_ARGS) || exit $$?; \
	  if [ "$(COMPARE)" = 1 ]; then \
	    $(PY) bench/djhelpdesk/run.py --size $$size --runs $(RUNS) \
	      || echo "django-helpdesk's side failed at $$size: no ratio column"; \
	  fi; \
	done
	@$(PY) -m bench.scale.report --sizes $(SIZES) $(if $(filter 1,$(COMPARE)),--compare,)

clean:
	rm -rf $(VENV) var *.egg-info build dist
