# Transfer Tracker. `make run` serves the app with the seed data; `make test` runs the whole suite.
# Both set everything up first: a .venv from the lock files, the database (embedded Postgres under
# .data/ unless DATABASE_URL is set), migrations.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run worker test lint format install migrate seed superuser lock clean-db vendor backup restore faults bench messages translations

$(INSTALLED): requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	touch $@

install: $(INSTALLED)

# The translations (locale/*/LC_MESSAGES/django.po) compiled to the .mo files Django reads, in
# Python (no gettext tools needed). `make translations` re-extracts the strings into the catalogues
# (needs GNU gettext: apt-get install gettext) after templates or code change; see README.
messages: install
	$(MANAGE) compile_translations

translations: install
	$(MANAGE) makemessages --locale es --locale fr --locale ar --ignore ".venv/*" --ignore "node_modules/*" --ignore ".data/*" --ignore "templates/admin/*" --ignore "tests/*" --ignore "scripts/*" --no-obsolete --add-location file
	$(MANAGE) compile_translations

migrate: install
	$(MANAGE) migrate --noinput

seed: migrate
	$(MANAGE) load_seed
	$(MANAGE) populate_history --auto

superuser: migrate
	$(MANAGE) create_dev_superuser

# The import worker (CSV imports too large for a request: docs/IMPORT.md) runs in the background
# beside the development server, in the same shell, whose trap stops it when the server stops
# (Ctrl-C, an error or a kill). The worker does not reload on code changes: restart `make run`.
run: seed superuser messages
	@echo "Serving on http://$(HOST):$(PORT)/  (editors: http://$(HOST):$(PORT)/admin/)"
	@$(MANAGE) run_import_jobs & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(MANAGE) runserver $(HOST):$(PORT)

# The import worker alone, e.g. beside a server started some other way.
worker: migrate
	$(MANAGE) run_import_jobs

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# axe-core for the accessibility checks comes from npm, where npm is available.
NODE_DEPS := $(if $(shell command -v npm 2>/dev/null),node_modules/.installed)

test: lint messages $(NODE_DEPS)
	$(MANAGE) makemigrations --check --dry-run
	$(BIN)/pytest

# Re-resolve the dependencies declared in pyproject.toml into the two lock files.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet $$($(PYTHON) -c 'import tomllib; print(" ".join(repr(d) for d in tomllib.load(open("pyproject.toml","rb"))["project"]["dependencies"]))' | tr -d "'")
	(echo "# Runtime dependencies, exact versions as tested. Regenerate with: make lock"; .lock-venv/bin/pip freeze) > requirements.lock
	.lock-venv/bin/pip install --quiet $$($(PYTHON) -c 'import tomllib; print(" ".join(repr(d) for d in tomllib.load(open("pyproject.toml","rb"))["project"]["optional-dependencies"]["dev"]))' | tr -d "'")
	(echo "# Runtime + test/lint dependencies, exact versions as tested. Regenerate with: make lock"; echo "-r requirements.lock"; .lock-venv/bin/pip freeze | grep -v -x -F -f requirements.lock) > requirements-dev.lock
	rm -rf .lock-venv

# Backups: `make backup` writes backups/tracker-<time>.dump; `make restore FILE=...` restores one.
backup: migrate
	$(MANAGE) backup

restore: install
	@test -n "$(FILE)" || (echo "usage: make restore FILE=backups/tracker-....dump" && exit 2)
	$(MANAGE) restore $(FILE)

# The benchmark (docs/PERFORMANCE.md): generated data, gunicorn with production settings, wrk.
# wrk comes from Debian; installed here if missing (as root), like .ci/run does for Chromium.
bench: install
	@command -v wrk >/dev/null 2>&1 || (apt-get install -y -q wrk || (apt-get update -q && apt-get install -y -q wrk))
	$(BIN)/python scripts/bench.py $(ARGS)

# Restarts the local Postgres (127.0.0.1:5432) under load and checks the app copes (scripts/faults.py),
# then floods the cache and tries lock-outs and rate limits through a proxy hop (scripts/hostile.py).
# Both run even if the first fails; either failing fails the target.
faults: install
	$(BIN)/python scripts/faults.py; database=$$?; \
	$(BIN)/python scripts/hostile.py; hostile=$$?; \
	test $$database -eq 0 && test $$hostile -eq 0

# Deletes the embedded database (not a DATABASE_URL server).
clean-db:
	rm -rf .data

# Front-end data and test tools from npm: axe-core for the browser tests, and world-atlas, whose
# 1:110m country shapes are copied (with their licence) into static/ and committed.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

vendor: node_modules/.installed
	mkdir -p static/vendor/world-atlas
	cp node_modules/world-atlas/countries-110m.json node_modules/world-atlas/LICENSE static/vendor/world-atlas/
