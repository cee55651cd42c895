import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection
from django.urls import reverse

from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory


@pytest.fixture
def tournament(db):
    return TournamentFactory()


@pytest.fixture
def slot(db, tournament):
    return SlotFactory(time_block__tournament=tournament, capacity=2)


@pytest.fixture
def participant(db):
    return ParticipantFactory()


@pytest.fixture
def postgres(db):
    """Concurrency proofs mean nothing on SQLite: fail loudly instead of skipping."""
    if connection.vendor != "postgresql":
        pytest.fail(
            "This test races real transactions and needs PostgreSQL: "
            "set DATABASE_URL=postgres://... (make test does)."
        )


# --- the organizer back office (admin) -------------------------------------------------------


def organizers_group():
    """The Organizers group as its data migration makes it (rebuilt if a transactional test
    flushed the database since)."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    group = Group.objects.filter(name="Organizers").first()
    if group is None or not group.permissions.exists():
        migration = importlib.import_module("registrations.migrations.0002_organizers_group")
        # The audit trail has moved to `common` since that migration ran.
        permissions = {label: dict(models) for label, models in migration.PERMISSIONS.items()}
        permissions["common"] = {"auditevent": permissions["registrations"].pop("auditevent")}
        migration.create_organizers_group(apps, None, permissions)
        importlib.import_module("registrations.migrations.0005_organizers_see_notifications").grant(
            apps, None
        )
        importlib.import_module("registrations.migrations.0007_organizers_manage_webhooks").grant(
            apps, None
        )
        importlib.import_module("registrations.migrations.0009_organizers_manage_waitlists").grant(
            apps, None
        )
        importlib.import_module("results.migrations.0002_judges_group").grant(apps, None)
        importlib.import_module("registrations.migrations.0013_volunteers_group").grant(apps, None)
        group = Group.objects.get(name="Organizers")
    return group


def volunteers_group():
    """The Volunteers group as its data migration makes it (rebuilt with the Organizers)."""
    from django.contrib.auth.models import Group

    organizers_group()
    return Group.objects.get(name="Volunteers")


def make_volunteer(username="vera"):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username=username, password="a-long-volunteer-password", is_staff=True
    )
    user.groups.add(volunteers_group())
    return user


@pytest.fixture
def volunteer(db):
    """A staff member of the Volunteers group: the check-in pages and nothing else."""
    return make_volunteer()


@pytest.fixture
def volunteer_client(client, volunteer):
    client.force_login(volunteer)
    return client


def make_organizer(username="olga"):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username=username, password="a-long-organizer-password", is_staff=True
    )
    user.groups.add(organizers_group())
    return user


@pytest.fixture
def organizer(db):
    """A staff member of the Organizers group (not a superuser)."""
    return make_organizer()


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and proof-of-work marks live in the cache: start each test clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _site_language():
    """Each test ends in the site's language: a request the test client makes in French leaves
    French active in the thread (nothing resets it after the response), and the next test's
    messages would be French."""
    from django.utils import translation

    yield
    translation.deactivate()


# --- the public sign-up form -----------------------------------------------------------------


def signup_url(tournament, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("registrations:create", args=[tournament.slug]) + (f"?{query}" if query else "")


def form_data(client, url, **fields):
    """Load the form (like a browser), then fill it in."""
    response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:500]
    data = {"idempotency_key": response.context["form"]["idempotency_key"].value()}
    if response.context.get("pow_challenge"):
        data["pow_challenge"] = response.context["pow_challenge"]
    data.update(fields)
    return data


@pytest.fixture(autouse=True)
def _force_login_includes_the_second_factor(monkeypatch):
    """`force_login` stands for a finished login. The suite runs with LINEUP_ADMIN_2FA on, as
    production does, and there a finished staff login includes the one-time code: so the
    session is also verified by a real confirmed device (tests/test_admin_2fa.py drives the
    login form itself)."""
    from django.test import Client

    from tests.otp import verify_session

    force_login = Client.force_login

    def force_login_verified(self, user, backend=None):
        force_login(self, user, backend)
        if user.is_staff:
            verify_session(self, user)

    monkeypatch.setattr(Client, "force_login", force_login_verified)


@pytest.fixture(autouse=True)
def _rate_limit_clock_held(monkeypatch):
    """django-ratelimit counts per clock window, so a test's few requests could straddle a
    window's end and see the count start again: hold its clock still during each test."""
    import django_ratelimit.core as ratelimit_core

    now = ratelimit_core.time.time()
    monkeypatch.setattr(ratelimit_core, "time", SimpleNamespace(time=lambda: now))


# --- a Redis of the suite's own ----------------------------------------------------------------


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_debian_package(command, package):
    """Install a Debian package the test needs when its command is missing (as root, or with
    sudo) when a plain `pytest` runs without `make test`'s `make debs` having installed it."""
    import shutil
    import subprocess

    if shutil.which(command) or Path(f"/usr/sbin/{command}").exists():
        return shutil.which(command) or f"/usr/sbin/{command}"
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-q"], check=True, capture_output=True)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-q", package], check=True, capture_output=True
    )
    return shutil.which(command) or f"/usr/sbin/{command}"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A throwaway redis-server on a free loopback port, for the tests that need the real
    shared cache (the admission queue's script, the scale-out test)."""
    import subprocess
    import time

    server = ensure_debian_package("redis-server", "redis-server")
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(tmp_path_factory.mktemp("redis"))],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    deadline = time.monotonic() + 15
    while True:
        try:
            redis.Redis(port=port).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)
