"""The home page's "find yourself", on a 360-px phone: a typo finds the person, one tap signs
them up for a tournament they can still enter."""

import pytest

from participants.services import participant_create
from registrations.models import Registration
from tests.browser.test_signup_flow import fits_the_screen
from tests.factories import SlotFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_typo_on_the_home_page_finds_the_person_and_one_tap_starts_the_sign_up(
    phone, live_server, shoot
):
    slot = SlotFactory(time_block__tournament__name="Violin Solo", capacity=2)
    gerard = participant_create(actor="test", first_name="Gérard", last_name="Berger")
    phone.goto(live_server.url + "/")
    phone.get_by_label("Your name or participant number, in every tournament").fill("Gerad Bergr")
    phone.get_by_role("button", name="Search").first.click()
    result = phone.locator(".festival-result", has_text="Gérard B.")
    result.wait_for()
    fits_the_screen(phone)
    shoot(phone, "festival-search")
    result.get_by_role("link", name="Violin Solo").click()  # the one tap
    phone.get_by_label("Phone").fill("5550101")
    phone.locator(f"#slot-{slot.pk}").check()
    phone.get_by_role("button", name="Sign up").click()
    phone.get_by_role("heading", name="You are signed up").wait_for()
    assert Registration.objects.get(participant=gerard).slot_id == slot.pk
