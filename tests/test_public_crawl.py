"""Every public page a visitor can reach from the home page, over the demo festival, answers
without a server error or a broken link (in English and in French)."""

import pytest

from tests.crawling import crawl
from tournaments.management.demo import MIN_PARTICIPANTS, demo_festival_load

# The back office has its own crawl; static files and the language switch are not pages.
SKIP = ("/admin/", "/static/", "/i18n/")


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = False
    for rate in ("SIGNUP", "SEARCH", "REFERENCE", "API"):
        setattr(settings, f"LINEUP_RATE_{rate}", "10000/m")  # one visitor, many pages
    demo_festival_load(participants=MIN_PARTICIPANTS)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_public_page_is_a_server_error_or_a_broken_link(client, demo, language):
    client.cookies["django_language"] = language

    statuses, broken = crawl(client, start="/", under="/", skip=SKIP)

    assert broken == []
    assert statuses[200] > 30  # the crawl really went round the festival


def test_the_crawler_reports_a_broken_public_link(client, demo, monkeypatch):
    # Negative control: a tournament page that breaks must show up in the report.
    from tournaments import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(selectors, "tournament_is_full", broken)
    client.raise_request_exception = False

    _statuses, broken_links = crawl(client, start="/", under="/", skip=SKIP)

    assert any(line.startswith("500 /t/") for line in broken_links)
