# Lineup: `make run` starts it with demo data, `make test` runs every test against PostgreSQL.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lineup

.PHONY: run test install postgres chromium lint

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

# seed_demo prints the address and the demo login; it leaves a database with other data alone
# (the leading "-" still starts the server then).
run: install
	@mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --noinput
	-DEBUG=1 $(PY) manage.py seed_demo --base-url http://$(HOST):$(PORT)
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: install postgres chromium
	DATABASE_URL=$(TEST_DATABASE_URL) SECRET_KEY=test-only-secret DEBUG=0 HTTPS=0 \
		$(PY) -m pytest $(PYTEST_ARGS)

# A local PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres); started if it is down.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; \
		echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1

# Browser tests drive the system Chromium: installed (as root, or via sudo) when it is missing.
chromium:
	@test -x /usr/bin/chromium || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
