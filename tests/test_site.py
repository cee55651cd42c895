"""Site-wide promises: friendly error pages, security headers, a clean deploy check."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import ParticipantFactory, SlotFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)


def test_an_unknown_page_gets_the_friendly_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and "See all tournaments" in html


def test_a_crash_gets_the_friendly_500():
    client = Client(raise_request_exception=False)
    with mock.patch(
        "tournaments.selectors.tournament_list_public", side_effect=RuntimeError("boom")
    ):
        response = client.get(reverse("tournaments:list"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html and "boom" not in html


def test_pages_send_a_strict_content_security_policy(client, slot):
    response = client.get(reverse("tournaments:detail", args=[slot.tournament.slug]))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_templates_have_no_inline_scripts_styles_or_handlers():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=", re.I)
    offenders = [
        str(path.relative_to(BASE_DIR))
        for path in (BASE_DIR / "templates").rglob("*.html")
        if "admin" not in path.parts and inline.search(path.read_text())
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/t/{slug}/",
        "/t/{slug}/find/?q=ab",
        "/t/{slug}/sign-up/?participant={participant}",
        "/t/{slug}/schedule/",
        "/no/such/page/",
    ],
)
def test_every_page_is_ready_for_phones_and_screen_readers(client, url):
    slot = SlotFactory()
    participant = ParticipantFactory()
    html = client.get(url.format(slug=slot.tournament.slug, participant=participant.pk)).content
    html = html.decode()
    assert '<html lang="en">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'href="#main"' in html and '<main id="main"' in html
    assert len(re.findall(r"<h1[ >]", html)) == 1
    # Every visible form control has a label.
    control = r'<(?:input|select|textarea)(?![^>]*type="(?:hidden|submit)")[^>]*id="([^"]+)"'
    ids = re.findall(control, html)
    for control in ids:
        assert f'for="{control}"' in html, control


def test_the_deploy_check_is_clean_with_the_production_example_values():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DEBUG", "HTTPS", "SECRET_KEY", "CACHE_URL")
    }
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            env[name] = value
    # The example's SECRET_KEY is a placeholder that says so; a deployment sets a real one.
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_warns_about_a_per_process_cache():
    from registrations.checks import check_rate_limit_cache

    with mock.patch.dict(
        settings.CACHES["default"], {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ):
        (warning,) = check_rate_limit_cache(None)
    assert warning.id == "lineup.W001"


def _without_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env["DEBUG"] = "false"
    return env


def test_a_server_refuses_to_start_without_a_secret_key():
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=BASE_DIR,
        env=_without_secret_key(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY setting must not be empty" in result.stderr


def test_commands_that_sign_nothing_run_without_a_secret_key():
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=BASE_DIR,
        env=_without_secret_key(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
