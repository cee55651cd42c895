"""The main flow as a person walks it, in a real browser: search, pick, confirm, cancel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from participants.services import participant_create
from registrations.models import Registration
from tests.browser.screen import fits_the_screen, follow
from tests.factories import LocationFactory, SlotFactory, TimeBlockFactory, TournamentFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def festival(db):
    tournament = TournamentFactory(name="Spring Piano Festival")
    starts = (timezone.localtime() + timedelta(days=2)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    slots = []
    for room in (LocationFactory(name="Blue Room"), LocationFactory(name="Green Room")):
        block = TimeBlockFactory(
            tournament=tournament, location=room, starts_at=starts, slot_capacity=2
        )
        for i in range(6):
            slots.append(
                SlotFactory(
                    time_block=block, starts_at=starts + timedelta(minutes=10 * i), capacity=2
                )
            )
    zoe = participant_create(
        actor="test", first_name="Zoë", last_name="Núñez", school="Lincoln MS", grade="7"
    )
    participant_create(actor="test", first_name="Zoey", last_name="Nunn", school="Riverside")
    return tournament, slots, zoe


def walk_the_main_flow(page, live_server, shoot, festival, *, email):
    tournament, slots, zoe = festival

    def shoot(page, step, _shoot=shoot):  # every step must also fit the screen
        fits_the_screen(page)
        return _shoot(page, step)

    page.goto(live_server.url + "/")
    shoot(page, "1-home")
    follow(page, page.get_by_role("link", name=tournament.name))
    shoot(page, "1b-tournament")
    page.get_by_label("Your name or participant number").fill("zoe nunes")  # typo, no accents
    page.get_by_role("button", name="Search").click()
    result = page.locator(".result", has_text="Zoë N.")
    assert "Lincoln MS" in result.inner_text()
    shoot(page, "2-search")

    result.get_by_role("link", name="Sign up").click()  # click 1
    page.get_by_label("Blue Room").first.check()  # click 2
    page.get_by_label("E-mail").fill(email)
    shoot(page, "3-form")
    page.get_by_role("button", name="Sign up").click()  # click 3

    page.get_by_role("heading", name="You are signed up").wait_for()
    registration = Registration.objects.get(participant=zoe)
    assert page.locator("#reference").inner_text() == registration.reference
    assert "Blue Room" in page.content()
    assert registration.slot == slots[0]
    shoot(page, "4-confirmation")

    follow(page, page.get_by_role("link", name="Cancel this registration"))
    shoot(page, "5-cancel-asks")
    page.get_by_role("button", name="Yes, cancel it").click()
    page.get_by_text("the place is free").wait_for()
    shoot(page, "6-cancelled")
    registration.refresh_from_db()
    slots[0].refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
    assert slots[0].reserved_count == 0


def test_a_competitor_finds_herself_signs_up_and_cancels(page, live_server, shoot, festival):
    walk_the_main_flow(page, live_server, shoot, festival, email="parent@example.com")


def test_the_same_flow_on_a_360_pixel_phone(phone, live_server, shoot, festival):
    walk_the_main_flow(phone, live_server, shoot, festival, email="phone@example.com")
    for path in (f"/t/{festival[0].slug}/", f"/t/{festival[0].slug}/schedule/", "/nowhere/"):
        phone.goto(live_server.url + path)
        fits_the_screen(phone)
    phone.goto(live_server.url + f"/t/{festival[0].slug}/schedule/")
    shoot(phone, "7-schedule")


def test_the_first_tab_reaches_the_skip_link_then_the_content(page, live_server, festival):
    page.goto(live_server.url + f"/t/{festival[0].slug}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Lineup"


def test_everything_works_with_javascript_off(no_js_page, live_server, shoot, festival):
    tournament, slots, zoe = festival
    page = no_js_page
    page.goto(live_server.url + f"/t/{tournament.slug}/")
    page.locator(".slot-open a").nth(3).click()  # pick a time on the tournament page first
    page.get_by_label("Your name or participant number").fill("Núñez")
    page.get_by_role("button", name="Search").click()
    page.locator(".result", has_text="Zoë N.").get_by_role("link", name="Sign up").click()
    page.get_by_label("Phone").fill("+44 20 7946 0958")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="You are signed up").wait_for()
    shoot(page, "confirmation")
    assert Registration.objects.get(participant=zoe).slot == slots[3]


def test_a_browser_solves_the_proof_of_work_by_itself(page, live_server, festival, settings):
    settings.LINEUP_POW_BITS = 12
    tournament, _slots, zoe = festival
    tournament.requires_proof_of_work = True
    tournament.save()
    page.goto(live_server.url + f"/t/{tournament.slug}/sign-up/?participant={zoe.pk}")
    page.get_by_label("Green Room").first.check()
    page.get_by_label("Phone").fill("5550101")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="You are signed up").wait_for()
    assert Registration.objects.get(participant=zoe).slot.location.name == "Green Room"


def test_a_full_slot_offers_the_nearest_ones_in_the_browser(page, live_server, shoot, festival):
    tournament, slots, zoe = festival
    page.goto(live_server.url + f"/t/{tournament.slug}/sign-up/?participant={zoe.pk}")
    page.get_by_label("E-mail").fill("parent@example.com")
    page.locator(f"#slot-{slots[1].pk}").check()
    slots[1].__class__.objects.filter(pk=slots[1].pk).update(reserved_count=2)  # filled meanwhile
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="This slot just filled").wait_for()
    shoot(page, "slot-taken")
    page.get_by_role("button", name="Sign up for this time").click()
    page.get_by_role("heading", name="You are signed up").wait_for()
    registration = Registration.objects.get(participant=zoe)
    assert registration.slot != slots[1]
    assert registration.contact_email == "parent@example.com"


def test_times_are_the_venues_and_say_so(page, live_server):
    """A Paris tournament on a UTC server: 08:00 UTC in January is 09:00 CET at the venue,
    on the page, the form and the confirmation alike."""
    from datetime import UTC, datetime

    starts = datetime(2030, 1, 12, 8, 0, tzinfo=UTC)
    slot = SlotFactory(
        starts_at=starts,
        capacity=2,
        time_block__tournament__name="Paris Piano",
        time_block__tournament__time_zone="Europe/Paris",
        time_block__location__name="Salle Cortot",
    )

    page.goto(f"{live_server.url}/t/{slot.tournament.slug}/")
    assert "Times are in Europe/Paris (CET)." in page.content()
    follow(page, page.get_by_role("link", name="Sign up by typing the name"))
    assert "Times are in Europe/Paris (CET)." in page.content()
    page.get_by_label("Salle Cortot").check()
    assert "09:00" in page.locator("label", has_text="Salle Cortot").inner_text()
    page.get_by_label("Full name").fill("Ana Lopes")
    page.get_by_label("E-mail").fill("ana@example.com")
    page.get_by_role("button", name="Sign up").click()

    page.get_by_role("heading", name="You are signed up").wait_for()
    assert "09:00–09:10 (CET)" in page.content()  # noqa: RUF001 (the page's dash)
