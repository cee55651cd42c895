# Lineup: `make run` starts it with demo data, `make test` runs every test against PostgreSQL.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The address e-mails link to: the one `make run` serves at (listening on every interface,
# 0.0.0.0 or ::, links to localhost). The e-mail worker has no request to read it from.
LINK_HOST = $(if $(filter 0.0.0.0 :: [::],$(HOST)),localhost,$(HOST))
LINEUP_BASE_URL ?= http://$(LINK_HOST):$(PORT)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lineup

# Type-checked: the apps' services and selectors, the engine's modules, the importers and the
# shared common/ package.
APPS := tournaments participants registrations results
TYPED = $(wildcard $(foreach app,$(APPS),$(app)/services.py $(app)/services/*.py \
	$(app)/selectors.py $(app)/errors.py $(app)/importing.py $(app)/importing/*.py) \
	$(addprefix registrations/,entries.py places.py rows.py rules.py periodic.py check_in.py venue.py door_codes.py) \
	registrations/notifications registrations/sync registrations/retries.py tournaments/scoring.py \
	results/checking.py registrations/calendars.py opendata common)

.PHONY: run test install lock debs postgres gettext messages lint typecheck openapi

install: $(VENV)/.installed

# Exact versions from the lock, then the project itself (it only brings its dependencies).
$(VENV)/.installed: requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# Re-resolves the newest versions that pyproject.toml allows (runtime and dev) into the lock;
# `make lock LOCK_ARGS=` only adds what pyproject.toml gained and keeps the other pins.
LOCK_ARGS ?= --upgrade
lock: install
	$(VENV)/bin/pip-compile --quiet $(LOCK_ARGS) --extra dev --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --output-file requirements-dev.txt pyproject.toml

# seed_demo prints the address and the demo login; it leaves a database with other data alone
# (the leading "-" still starts the server then). The e-mail worker and the periodic jobs run
# in the background (e-mails print here) and stop with the server.
run: install
	@mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --noinput
	-DEBUG=1 $(PY) manage.py seed_demo --base-url $(LINEUP_BASE_URL)
	@export DEBUG=1 LINEUP_BASE_URL=$(LINEUP_BASE_URL); $(PY) manage.py db_worker --no-reload -v 0 & w=$$!; \
	$(PY) manage.py run_periodic_jobs --every 30 -v 0 & j=$$!; \
	trap 'kill $$w $$j 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Lint and type checks first, so a slip fails in seconds; tests/env_defaults.py sets the rest.
# Two pytest workers (one per core); the tests that start clusters share one worker's queue.
PYTEST_ARGS ?= -n 2 --dist loadgroup
test: lint typecheck debs postgres
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest $(PYTEST_ARGS)

# Debian packages the tests use, each named by a file it installs: Chromium (browser tests),
# gettext (the catalogue tests run makemessages), PostgreSQL's client tools (the restore
# drill's pg_dump and pg_restore), HAProxy and Redis (the scale-out and admission tests start
# their own). What is missing is installed (as root, or via sudo) in one apt-get before the
# tests start: two test workers installing at once would fight over apt's lock.
TEST_DEBS := chromium:/usr/bin/chromium gettext:/usr/bin/xgettext \
	postgresql-client:/usr/bin/pg_restore haproxy:/usr/sbin/haproxy redis-server:/usr/bin/redis-server
debs:
	@missing=$$(for d in $(TEST_DEBS); do test -x $${d#*:} || echo $${d%%:*}; done); \
	[ -z "$$missing" ] || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; }

# A local PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres); started if it is down.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; \
		echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1

# `make messages` needs GNU gettext (xgettext, msgmerge, msgfmt).
gettext:
	@test -x /usr/bin/xgettext && test -x /usr/bin/msgfmt || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q gettext; }

# Refreshes locale/*/LC_MESSAGES/django.po from the code and templates (the admin's templates
# left out: it follows Django's own catalogues), then compiles the .mo files. Translate the new
# entries (no empty or fuzzy msgstr), run it again and commit both files.
MESSAGES_IGNORE := .venv tests bench ops docs var test-artifacts templates/admin
messages: install gettext
	DEBUG=1 $(PY) manage.py makemessages --all --no-location $(addprefix --ignore=,$(MESSAGES_IGNORE))
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The django-stubs plugin imports the settings: give them the test suite's values.
typecheck: install
	SECRET_KEY=test-only DEBUG=0 HTTPS=0 $(PY) -m mypy $(TYPED)

# The API's OpenAPI document, committed beside the code that generates it; a test fails when
# the two differ, so run this after changing the API and commit the result.
openapi: install
	SECRET_KEY=openapi DEBUG=0 HTTPS=0 $(PY) manage.py export_openapi_schema \
		--api opendata.api.api --indent 2 --sorted --output opendata/openapi-v1.json
