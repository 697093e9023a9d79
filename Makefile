# Telederm — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.8
UV := .uv/bin/uv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
PORT ?= 8000

.PHONY: install run test test-postgres check lint format typecheck migrations-check messages messages-update clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')"
	touch $@

# Compiled message catalogues are built with Babel (a Python package), so no GNU gettext is needed.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard telederm/locale/*/LC_MESSAGES/*.po))
%.mo: %.po | $(VENV)/.synced
	$(VENV)/bin/pybabel -q compile -i $< -o $@ -l $(word 3,$(subst /, ,$<))

messages: $(MO_FILES)

# Front-end packages from the npm registry (served as static files, no build step).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.synced messages node_modules/.installed

## make run: migrate SQLite, load demo data, start web server + task worker on http://127.0.0.1:$(PORT)
run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_referrals
	PORT=$(PORT) ./bin/run-demo

## make test: the whole suite (SQLite unless DATABASE_URL is set)
test: install
	$(VENV)/bin/pytest -n 2

test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/telederm} $(VENV)/bin/pytest

## make check: the quality gate (lint, format, types, migrations, translations)
check: install lint typecheck migrations-check messages-check

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck:
	$(VENV)/bin/mypy telederm

migrations-check:
	TELEDERM_DATA_DIR=$$(mktemp -d) $(PY) manage.py makemigrations --check --dry-run

# Needs GNU gettext (xgettext) to extract strings; .ci/run installs it.
messages-update: install
	cd telederm && ../$(PY) ../manage.py makemessages -l sv --no-location --no-obsolete -e html,txt,py >/dev/null

messages-check: messages-update
	$(PY) -m telederm.lib.check_messages telederm/locale/sv/LC_MESSAGES/django.po

clean:
	rm -rf .venv .uv var/static .pytest_cache .mypy_cache .ruff_cache
