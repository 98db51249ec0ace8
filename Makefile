# One entry point for people and CI. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

.DEFAULT_GOAL := help
.PHONY: help install lock run migrate test test-pg lint format docs migrations bench chromium clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

# Installs exactly what the lock files name, each file checked against its hash; the
# project itself goes in without resolving anything (`--no-deps`). `make lock` refreshes.
$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --require-hashes -r requirements-dev.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install exactly the locked versions (with hashes)

# uv (a maintained resolver, from PyPI) runs in a throw-away venv of its own: the project's
# venv holds only what the lock names. Universal: one lock for every OS and Python 3.11+.
UV_VENV := .venv-lock
UV_COMPILE = $(UV_VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --quiet
lock:  ## re-resolve requirements*.lock from pyproject.toml (UPGRADE=pkg or UPGRADE=all)
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install -q --disable-pip-version-check uv
	$(UV_COMPILE) $(if $(filter all,$(UPGRADE)),--upgrade,$(if $(UPGRADE),--upgrade-package $(UPGRADE))) \
		-o requirements.lock
	$(UV_COMPILE) --extra dev $(if $(filter all,$(UPGRADE)),--upgrade,$(if $(UPGRADE),--upgrade-package $(UPGRADE))) \
		-o requirements-dev.lock
	rm -rf $(UV_VENV)

run: install  ## migrate the database and start bot + web + scheduler (sandbox without BOT_TOKEN)
	$(PY) main.py migrate
	$(PY) main.py run

migrate: install  ## apply database migrations
	$(PY) main.py migrate

test: install chromium  ## run the test suite (set TEST_DATABASE_URL for PostgreSQL)
	$(PY) -m pytest

test-pg: install chromium  ## the same suite against the local PostgreSQL
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(PY) -m pytest

lint: install  ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: install  ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

docs: install  ## regenerate docs/ from the event catalogue and the subscriptions
	$(PY) main.py docs

migrations: install  ## write a migration for model changes (commit it)
	$(VENV)/bin/tortoise makemigrations

bench: install  ## run the benchmarks in bench/ and print their figures (about 10 minutes)
	$(PY) bench/ingest.py
	$(PY) bench/scheduler.py
	$(PY) bench/delivery.py
	$(PY) bench/reminders.py
	$(PY) bench/room.py

# Browser tests drive Debian's chromium through Playwright; never a downloaded browser.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; \
	  fi; \
	fi

clean:  ## remove the virtual environment and caches (keeps ./data)
	rm -rf $(VENV) .venv-lock .pytest_cache .mypy_cache .ruff_cache *.egg-info
