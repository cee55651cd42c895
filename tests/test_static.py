"""Static files in production: hashed names that WhiteNoise serves compressed and cached long.

As WhiteNoise's own tests do, each test runs `collectstatic` into a temporary STATIC_ROOT with
the production storage, then fetches the page and every stylesheet and script it links.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"')
HASHED = re.compile(r"\.[0-9a-f]{12}\.(?:css|js)$")


@pytest.fixture
def production_static(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_MAX_AGE = 600
    call_command("collectstatic", "--noinput", verbosity=0)
    return Client()  # a new client builds its middleware, so WhiteNoise scans the new root


def assets_of(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    found = ASSET.findall(response.content.decode())
    assert found, f"{url} links no CSS or JS"
    return found


def assert_served_for_a_year(client: Client, url: str) -> None:
    assert HASHED.search(url), f"{url} has no content hash in its name"
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200, url
    assert "immutable" in response["Cache-Control"]
    assert int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1)) >= 31_536_000
    assert response["Content-Encoding"] == "gzip"
    # Not response.close(): that sends request_finished, which would close the test's
    # database connection mid-transaction.
    for closable in response._resource_closers:
        closable()


def test_public_pages_link_hashed_css_and_js_served_with_long_cache(production_static, slot):
    for url in ("/", f"/t/{slot.tournament.slug}/"):
        for asset in assets_of(production_static, url):
            assert_served_for_a_year(production_static, asset)


def test_the_admin_login_page_has_its_own_assets_served_too(production_static):
    assets = assets_of(production_static, "/admin/login/")
    assert any("/static/admin/" in a for a in assets)
    for asset in assets:
        assert_served_for_a_year(production_static, asset)


def test_the_gunicorn_configuration_loads_with_the_app():
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run(
        [str(gunicorn), "--check-config", "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "GUNICORN_WORKERS": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
