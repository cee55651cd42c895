"""Every page of the back office answers without a server error or a broken link: a crawl of
the admin over the demo festival, as an organizer, as the demo login and as a volunteer."""

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import make_organizer, make_volunteer
from tests.crawling import crawl
from tournaments.management.demo import MIN_PARTICIPANTS, demo_admin_ensure, demo_festival_load

# Side effects or other sites: leaving, and "view on site" (the public pages have their own).
SKIP = ("/admin/logout/", "/admin/r/")


def crawl_admin(client, **options):
    return crawl(client, start="/admin/", under="/admin/", skip=SKIP, **options)


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = False
    demo_festival_load(participants=MIN_PARTICIPANTS)
    demo_admin_ensure(username="demo", password="a-long-demo-password-for-tests")


def test_no_page_an_organizer_can_reach_is_a_server_error(client, demo):
    client.force_login(make_organizer())

    statuses, broken = crawl_admin(client)

    assert broken == []
    assert statuses[200] > 100  # the crawl really went round the back office


def test_no_page_the_demo_login_can_reach_is_a_server_error(client, demo):
    client.force_login(get_user_model().objects.get(username="demo"))

    statuses, broken = crawl_admin(client)

    assert broken == []
    assert statuses[200] > 100


def test_a_volunteer_meets_refusals_not_errors(client, demo):
    client.force_login(make_volunteer())

    statuses, broken = crawl_admin(client, refused_is_broken=False)

    assert broken == []
    assert statuses[200] >= 3  # the dashboard and the check-in pages


def test_the_crawler_reports_a_server_error(client, demo, monkeypatch):
    # Negative control: a page that breaks must show up in the report.
    from django.contrib.admin import ModelAdmin

    def broken_changelist(self, request, extra_context=None):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(ModelAdmin, "changelist_view", broken_changelist)
    client.raise_request_exception = False
    client.force_login(make_organizer())

    _statuses, broken = crawl_admin(client)

    assert any(line.startswith("500 /admin/") for line in broken)
