# One entry point for people and CI. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

.DEFAULT_GOAL := help
.PHONY: help install run migrate test test-pg lint format docs migrations bench chromium clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install everything

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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
