"""Every page of the back office answers without a server error: a crawl of the admin over the
demo festival, following each link (at most a few of each kind) as an organizer and as a
volunteer. A new page, filter or download is covered as soon as something links to it."""

import html
import re
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import make_organizer, make_volunteer
from tournaments.management.demo import MIN_PARTICIPANTS, demo_admin_ensure, demo_festival_load

LINK = re.compile(r'href="(/admin/[^"#]*)"')
ID = re.compile(r"/(?:\d+|[0-9a-f]{8}-[0-9a-f-]{27})(?=/|$)")
# Side effects or other sites: leaving, and "view on site" (the public pages have their own).
SKIP = ("/admin/logout/", "/admin/r/")
PER_KIND = 2
MOST = 700


def kind(url: str) -> tuple[str, tuple[str, ...]]:
    """A link's kind: its path with ids taken out and the names of its query parameters."""
    parts = urlsplit(url)
    return ID.sub("/<id>", parts.path), tuple(sorted({k for k, _ in parse_qsl(parts.query)}))


def crawl(client, *, refused_is_broken: bool = True) -> tuple[Counter, list[str]]:
    """Statuses seen, and the links that are broken: a server error, a link to nothing or to
    a page that only takes a form (404, 405), and for a role that should see the whole
    back office a refusal (403)."""
    queue, seen, kinds, statuses, broken = ["/admin/"], {"/admin/"}, Counter(), Counter(), []
    while queue and sum(statuses.values()) < MOST:
        url = queue.pop(0)
        response = client.get(url)
        statuses[response.status_code] += 1
        status = response.status_code
        if status >= 500 or status in (404, 405) or (status == 403 and refused_is_broken):
            broken.append(f"{status} {url}")
        if status >= 400:
            continue
        if "html" not in response.get("Content-Type", "") or response.streaming:
            continue
        for found in LINK.findall(response.content.decode()):
            link = html.unescape(found)
            if link in seen or link.startswith(SKIP):
                continue
            seen.add(link)
            if kinds[kind(link)] < PER_KIND:
                kinds[kind(link)] += 1
                queue.append(link)
    return statuses, broken


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = False
    demo_festival_load(participants=MIN_PARTICIPANTS)
    demo_admin_ensure(username="demo", password="a-long-demo-password-for-tests")


def test_no_page_an_organizer_can_reach_is_a_server_error(client, demo):
    client.force_login(make_organizer())

    statuses, broken = crawl(client)

    assert broken == []
    assert statuses[200] > 100  # the crawl really went round the back office


def test_no_page_the_demo_login_can_reach_is_a_server_error(client, demo):
    client.force_login(get_user_model().objects.get(username="demo"))

    statuses, broken = crawl(client)

    assert broken == []
    assert statuses[200] > 100


def test_a_volunteer_meets_refusals_not_errors(client, demo):
    client.force_login(make_volunteer())

    statuses, broken = crawl(client, refused_is_broken=False)

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

    _statuses, broken = crawl(client)

    assert any(line.startswith("500 /admin/") and "/changelist" not in line for line in broken)
