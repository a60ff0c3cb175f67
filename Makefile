# certbody: developer entry points (README.md).
#
#   make run            system packages + venv + install + migrate + reference data + demo
#                       users + collectstatic, then serve on http://127.0.0.1:8000
#   make test           the whole suite (incl. browser tests on Debian's chromium), SQLite
#   make test-postgres  the same suite against PostgreSQL + Redis (DATABASE_URL, REDIS_URL)
#   make messages       after changing translatable strings: update and compile the zh_Hans
#                       catalogue (needs gettext; the compiled .mo is committed, so run and
#                       test never need gettext)
#
# Every target is safe to re-run.

SHELL := /bin/bash
.DEFAULT_GOAL := help
# Steps depend on each other's side effects (database, venv); keep them strictly ordered.
.NOTPARALLEL:

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PYTEST := $(VENV)/bin/pytest
RUFF := $(VENV)/bin/ruff
# Re-run "pip install -e '.[dev]'" only when pyproject.toml is newer than this stamp.
STAMP := $(VENV)/.installed

# Debian packages: CJK fonts and HarfBuzz subsetting for the PDF certificates (WeasyPrint),
# plus Pango, which WeasyPrint loads at import time (already present on most installs).
SYSTEM_PKGS ?= fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0
# Browser tests use Debian's Chromium (/usr/bin/chromium); a browser is never downloaded.
TEST_PKGS ?= chromium gettext

RUN_ADDR ?= 127.0.0.1:8000
# make run serves static files itself (DEBUG on); whitenoise is there either way.
RUN_DEBUG ?= 1

PYTEST_ARGS ?=
# pytest-xdist workers for make test / test-postgres (one migrated test database each); 0 = serial.
# --dist loadgroup: the tests that use the demo data set share one worker, which builds it once.
TEST_WORKERS ?= 2
BENCH_ARGS ?=

# Paths makemessages/compilemessages must not walk (third-party and generated files).
MESSAGES_IGNORE := --ignore='.venv/*' --ignore='var/*' --ignore='bench-results/*'

# Defaults for test-postgres; a DATABASE_URL / REDIS_URL from the environment wins.
TEST_DATABASE_URL_DEFAULT := postgres://postgres@127.0.0.1:5432/certbody_ci
TEST_REDIS_URL_DEFAULT := redis://127.0.0.1:6379/15

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONUNBUFFERED := 1

# $(call ensure_pkgs,<debian packages>): install the packages that are missing, with a
# single "apt-get update" first; nothing at all happens when everything is installed.
# When the venv does not exist yet and $(PYTHON) cannot create one (Debian ships ensurepip
# separately), python3 and python3-venv are added to the list.
define ensure_pkgs
	@set -euo pipefail; \
	if ! command -v dpkg >/dev/null 2>&1; then \
		echo "warning: not a Debian system (no dpkg); make sure these are installed: $(1)" >&2; \
		exit 0; \
	fi; \
	missing=""; \
	for pkg in $(1); do \
		if ! dpkg -s "$$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then \
			missing="$$missing $$pkg"; \
		fi; \
	done; \
	if [ ! -x "$(PY)" ] && ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1; then \
		for pkg in python3 python3-venv; do \
			dpkg -s "$$pkg" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$$missing $$pkg"; \
		done; \
	fi; \
	if [ -z "$$missing" ]; then \
		echo "System packages present: $(1)"; \
		exit 0; \
	fi; \
	echo "Missing system packages:$$missing"; \
	if [ "$$(id -u)" -eq 0 ]; then \
		sudo=""; \
	elif command -v sudo >/dev/null 2>&1; then \
		sudo="sudo"; \
	else \
		echo "error: not root and sudo is not available. Install them as root with:" >&2; \
		echo "    apt-get update && apt-get install -y$$missing" >&2; \
		exit 1; \
	fi; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$$missing
endef

.PHONY: help setup system-deps test-deps venv install migrate demo collectstatic run \
	test test-postgres lint format bench messages clean

help: ## List the targets
	@echo "Usage: make <target> [PYTEST_ARGS=...] [BENCH_ARGS=...]"
	@echo
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) \
		| sed -E 's/^([a-zA-Z_-]+):.*## (.*)$$/  \1\t\2/' \
		| expand -t 18

setup: system-deps venv install ## System packages + .venv + install -e '.[dev]'

system-deps: ## Install missing Debian packages (fonts-noto-cjk, libharfbuzz-subset0, ...)
	$(call ensure_pkgs,$(SYSTEM_PKGS))

test-deps: ## system-deps plus Debian's chromium for the browser tests
	$(call ensure_pkgs,$(SYSTEM_PKGS) $(TEST_PKGS))

venv: $(PY) ## Create .venv with python3 if missing

$(PY):
	$(PYTHON) -m venv $(VENV)
	@rm -f $(STAMP)

install: $(STAMP) ## uv (else pip) install -e '.[dev]' (only when pyproject.toml changed)

# uv installs the same requirements, bytecode compiled, in about 15 s where pip took about 30 s
# (CI installs on every clean clone). pip does it when uv cannot be had.
$(STAMP): pyproject.toml | $(PY)
	@if $(PIP) install -q uv && $(VENV)/bin/uv --version >/dev/null 2>&1; then \
		echo "$(VENV)/bin/uv pip install --compile-bytecode -e '.[dev]'"; \
		$(VENV)/bin/uv pip install --python $(PY) --compile-bytecode -e '.[dev]'; \
	else \
		echo "uv is not available: installing with pip"; \
		$(PIP) install -e '.[dev]'; \
	fi
	@touch $(STAMP)

migrate: install ## Apply database migrations
	$(PY) manage.py migrate --noinput

demo: migrate ## migrate + load_reference + seed_demo (prints the demo log-ins)
	$(PY) manage.py load_reference
	$(PY) manage.py seed_demo

collectstatic: install ## Collect static files into var/static
	$(PY) manage.py collectstatic --noinput

run: setup demo collectstatic ## Everything above, then serve on http://127.0.0.1:8000
	@echo "Serving on http://$(RUN_ADDR)/ (Ctrl-C to stop)"
	DEBUG=$(RUN_DEBUG) $(PY) manage.py runserver $(RUN_ADDR)

# The tests write bytecode caches (gitignored) even where PYTHONDONTWRITEBYTECODE is set: without
# them each worker compiles the project and rewrites the 350-odd test modules again, about 7 s of
# CPU per worker, and CI runs the suite twice.
TEST_ENV := env -u PYTHONDONTWRITEBYTECODE

test: test-deps install ## Whole test suite incl. browser tests (PYTEST_ARGS=...)
	$(TEST_ENV) $(PYTEST) -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

test-postgres: test-deps install ## Same suite on PostgreSQL + Redis (DATABASE_URL, REDIS_URL)
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL_DEFAULT)}" \
	REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL_DEFAULT)}" \
	$(TEST_ENV) $(PYTEST) -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install ## ruff check + ruff format --check
	@rc=0; \
	$(RUFF) check . || rc=1; \
	$(RUFF) format --check . || rc=1; \
	exit $$rc

format: install ## ruff check --fix + ruff format
	$(RUFF) check --fix .
	$(RUFF) format .

bench: install ## Run scripts/bench.py (BENCH_ARGS=...; PostgreSQL when DATABASE_URL is set)
	$(call ensure_pkgs,$(SYSTEM_PKGS) wrk)
	$(PY) scripts/bench.py $(BENCH_ARGS)

messages: install ## makemessages + compilemessages for zh_Hans (locale/; needs gettext)
	$(call ensure_pkgs,gettext)
	$(PY) manage.py makemessages -l zh_Hans $(MESSAGES_IGNORE)
	$(PY) manage.py compilemessages $(MESSAGES_IGNORE)

clean: ## Remove db.sqlite3, var/ and caches (keeps .venv)
	rm -rf db.sqlite3 db.sqlite3-wal db.sqlite3-shm db.sqlite3-journal var \
		.pytest_cache .ruff_cache .hypothesis test-results
	find . -path ./$(VENV) -prune -o -path ./.git -prune -o \
		-type d -name __pycache__ -prune -exec rm -rf {} +
