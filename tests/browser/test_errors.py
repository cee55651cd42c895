"""A refused form on a 360-px phone: the error summary is on screen and has the focus."""

from datetime import timedelta

import pytest
from django.utils import timezone

from participants.services import participant_create
from registrations.models import Registration
from tests.browser.test_signup_flow import fits_the_screen
from tests.factories import LocationFactory, SlotFactory, TimeBlockFactory, TournamentFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def long_form(db):
    """A sign-up form long enough that its button is far below the first screen."""
    tournament = TournamentFactory(name="Autumn Chess Open")
    starts = (timezone.localtime() + timedelta(days=2)).replace(hour=9, minute=0, second=0)
    block = TimeBlockFactory(
        tournament=tournament, location=LocationFactory(name="Hall"), starts_at=starts
    )
    for i in range(30):
        SlotFactory(time_block=block, starts_at=starts + timedelta(minutes=10 * i))
    ada = participant_create(actor="test", first_name="Ada", last_name="Łukasiewicz")
    return f"/t/{tournament.slug}/sign-up/?participant={ada.pk}"


def submit_without_a_contact(page, url):
    page.goto(url)
    page.locator("input[name=slot]").last.check()
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_load_state()


def test_an_invalid_submit_on_a_phone_shows_the_summary_with_focus_on_it(
    phone, live_server, shoot, long_form
):
    submit_without_a_contact(phone, live_server.url + long_form)
    summary = phone.locator("#error-summary")
    summary.wait_for()
    assert "Give an e-mail address or a phone number" in summary.inner_text()
    assert phone.title().startswith("Error: ")
    assert phone.evaluate("document.activeElement.id") == "error-summary"
    box = summary.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 740  # in view
    fits_the_screen(phone)
    shoot(phone, "error-summary")

    summary.get_by_role("link").first.click()  # the link takes the person to the field
    assert phone.evaluate("location.hash") == "#id_contact_email"
    assert not Registration.objects.exists()


def test_without_javascript_the_summary_is_still_on_top(no_js_page, live_server, long_form):
    submit_without_a_contact(no_js_page, live_server.url + long_form)
    assert no_js_page.title().startswith("Error: ")
    box = no_js_page.locator("#error-summary").bounding_box()
    assert box is not None and box["y"] < 300
