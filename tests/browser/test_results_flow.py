"""An organizer enters placings on the results sheet in a real browser and publishes them;
the public results page shows them."""

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import make_organizer
from tests.factories import TournamentFactory
from tests.results.conftest import entries_in

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, live_server, user):
    """The session of a finished staff login (with its second factor), handed to the
    browser: the login form itself is tested in tests/test_admin_2fa.py."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_an_organizer_enters_placings_and_the_public_page_shows_them(page, live_server, shoot):
    tournament = TournamentFactory(name="Spring Recital")
    entries = entries_in(tournament, 3)
    log_in(page, live_server, make_organizer())

    page.goto(f"{live_server.url}/admin/tournaments/tournament/{tournament.pk}/change/")
    page.locator("#content-main").get_by_role("link", name="Results", exact=True).click()
    rows = page.locator("#results-sheet tbody tr")
    rows.nth(2).locator("input[name$='-place']").fill("1")
    rows.nth(2).locator("input[name$='-score']").fill("9.5")
    rows.nth(0).locator("input[name$='-place']").fill("2")
    page.get_by_role("button", name="Save results").click()
    page.get_by_text("2 results saved").wait_for()
    page.get_by_role("button", name="Publish results").click()
    page.get_by_text("Results published.").wait_for()
    shoot(page, "sheet")

    page.get_by_role("link", name="Public results page").click()
    table = page.locator("table").first
    first, second = (entries[2].participant, entries[0].participant)
    assert first.public_name(full=False) in table.locator("tr").nth(1).inner_text()
    assert second.public_name(full=False) in table.locator("tr").nth(2).inner_text()
    assert entries[1].participant.public_name(full=False) not in page.content()
    shoot(page, "public")
