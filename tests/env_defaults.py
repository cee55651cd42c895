"""The settings the test suite runs with, unless the environment already sets them.

Loaded with `-p` (pyproject.toml) so that it runs before pytest-django imports
config/settings.py: a plain `pytest` then needs no variables, and an explicit one still wins.
"""

import os

# PostgreSQL, not the SQLite default: the concurrency tests race real transactions.
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lineup")
os.environ.setdefault("SECRET_KEY", "test-only")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("HTTPS", "0")
# No collectstatic before tests: plain static names (tests/test_static.py checks the hashed ones).
os.environ.setdefault("STATIC_MANIFEST", "0")
# E-mails are sent in-process after commit, so tests need no worker (the worker's own tests
# switch to the database backend).
os.environ.setdefault("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
