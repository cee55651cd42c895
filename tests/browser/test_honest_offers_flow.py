"""In a real browser, on a 360-px phone and a desktop: a team is never offered a time too
small for it, the entrant changes their time from the private page, and a lost link comes
back by e-mail."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from participants.services import participant_create, team_create
from registrations import services
from registrations.models import Registration
from tests.browser.screen import fits_the_screen, follow
from tests.factories import LocationFactory, SlotFactory, TimeBlockFactory, TournamentFactory

pytestmark = pytest.mark.django_db(transaction=True)

DEVICES = ["page", "phone"]


@pytest.fixture
def quartet(db):
    tournament = TournamentFactory(name="Chamber Teams", team_event=True)
    starts = (timezone.localtime() + timedelta(days=2)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    block = TimeBlockFactory(
        tournament=tournament, location=LocationFactory(name="Blue Room"), starts_at=starts
    )
    small = SlotFactory(time_block=block, starts_at=starts, capacity=3)
    big = SlotFactory(
        time_block=block, number=2, starts_at=starts + timedelta(minutes=10), capacity=6
    )
    team = team_create(actor="test", name="Lincoln Quartet", school="Lincoln")
    members = [
        participant_create(actor="test", first_name=name, last_name="Lee", team=team)
        for name in ("Ann", "Bo", "Cy", "Di")
    ]
    return tournament, team, members, small, big


@pytest.mark.parametrize("device", DEVICES)
def test_a_team_is_never_offered_a_time_too_small(request, device, live_server, shoot, quartet):
    page = request.getfixturevalue(device)
    tournament, team, members, small, big = quartet
    page.goto(f"{live_server.url}/t/{tournament.slug}/sign-up/?team={team.pk}")
    fits_the_screen(page)
    small_radio, big_radio = page.locator(f"#slot-{small.pk}"), page.locator(f"#slot-{big.pk}")
    # Four ticked, three places: shown, with the reason, and cannot be picked.
    for member in members:
        assert page.get_by_label(f"{member.first_name} L.").is_checked()
    assert small_radio.is_disabled()
    assert page.get_by_text("3 places left; your team needs 4").is_visible()
    assert big_radio.is_enabled()
    shoot(page, "team-four")

    # A coach unticks one: the three-place time now fits; "Tick everyone" takes it away again.
    page.get_by_label("Di L.").uncheck()
    assert small_radio.is_enabled()
    page.get_by_role("button", name="Tick everyone").click()
    assert page.get_by_label("Di L.").is_checked()
    assert small_radio.is_disabled()

    big_radio.check()
    page.get_by_label("E-mail").fill("coach@example.com")
    page.get_by_role("button", name="Sign up", exact=True).click()
    page.get_by_role("heading", name="You are signed up").wait_for()
    registration = Registration.objects.get(team=team)
    assert registration.slot_id == big.pk
    assert registration.seats == 4
    shoot(page, "team-signed-up")


def test_without_javascript_the_too_small_time_stays_unavailable(no_js_page, live_server, quartet):
    page = no_js_page
    tournament, team, _members, small, _big = quartet
    page.goto(f"{live_server.url}/t/{tournament.slug}/sign-up/?team={team.pk}")
    assert page.locator(f"#slot-{small.pk}").is_disabled()
    page.get_by_label("Di L.").uncheck()
    page.get_by_role("button", name="Show the times for these members").click()
    assert page.locator(f"#slot-{small.pk}").is_enabled()
    assert not page.get_by_label("Di L.").is_checked()
    assert Registration.objects.count() == 0


@pytest.fixture
def booked(db):
    tournament = TournamentFactory(
        name="Spring Piano Festival",
        organizer_name="Olga Organizer",
        organizer_email="olga@example.org",
    )
    starts = (timezone.localtime() + timedelta(days=2)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    block = TimeBlockFactory(
        tournament=tournament, location=LocationFactory(name="Blue Room"), starts_at=starts
    )
    slots = [
        SlotFactory(time_block=block, number=i + 1, starts_at=starts + timedelta(minutes=10 * i))
        for i in range(3)
    ]
    zoe = participant_create(actor="test", first_name="Zoë", last_name="Núñez")
    registration = services.registration_create(
        tournament=tournament,
        slot_id=slots[0].pk,
        participant=zoe,
        contact_email="parent@example.com",
        contact_phone="+44 20 7946 0958",
        actor="public",
    )
    return tournament, slots, registration


@pytest.mark.parametrize("device", DEVICES)
def test_the_entrant_changes_their_time(request, device, live_server, shoot, booked):
    page = request.getfixturevalue(device)
    _tournament, slots, registration = booked
    mail.outbox.clear()
    page.goto(f"{live_server.url}/r/{registration.reference}/")
    follow(page, page.get_by_role("link", name="Change the time"))
    fits_the_screen(page)
    shoot(page, "change-form")
    page.locator(f"#slot-{slots[2].pk}").check()
    page.get_by_role("button", name="Change to this time").click()
    page.get_by_text("Your time is now").wait_for()
    shoot(page, "changed")
    registration.refresh_from_db()
    assert registration.slot_id == slots[2].pk
    assert "09:20" in page.locator(".summary").inner_text()
    (message,) = [m for m in mail.outbox if "changed" in m.subject]
    assert re.search(r"Was: .*09:00", message.body)
    assert re.search(r"Now: .*09:20", message.body)


@pytest.mark.parametrize("device", DEVICES)
def test_a_lost_link_comes_back_by_email(request, device, live_server, shoot, booked):
    page = request.getfixturevalue(device)
    _tournament, _slots, registration = booked
    mail.outbox.clear()
    page.goto(live_server.url + "/")
    follow(page, page.get_by_role("link", name="Lost your private link?"))
    fits_the_screen(page)
    page.get_by_label("E-mail address or phone number").fill("+44 20 7946 0958")
    page.get_by_role("button", name="Send my links").click()
    page.get_by_text("Check your e-mail.").wait_for()
    shoot(page, "lost-link-sent")
    (message,) = mail.outbox
    assert message.to == ["parent@example.com"]
    link = re.search(r"http\S+/r/\S+/", message.body).group(0)
    assert registration.reference in link
    page.goto(live_server.url + link[link.index("/r/") :])
    page.get_by_role("heading", name="You are signed up").wait_for()
    assert page.locator("#short-reference").inner_text() == registration.short_reference_display

    # Someone unknown gets the very same answer, and no e-mail goes out.
    mail.outbox.clear()
    page.goto(live_server.url + "/lost-link/")
    page.get_by_label("E-mail address or phone number").fill("nobody@example.com")
    page.get_by_role("button", name="Send my links").click()
    page.get_by_text("Check your e-mail.").wait_for()
    assert mail.outbox == []
