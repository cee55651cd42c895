"""The waitlist as a person walks it, in a real browser: a full slot, join its waitlist,
someone cancels, the offer e-mail's link claims the place."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from registrations import services
from registrations.models import Registration, WaitlistEntry
from tests.factories import (
    LocationFactory,
    SlotFactory,
    TimeBlockFactory,
    TournamentFactory,
    register_someone,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def full_slot(db):
    tournament = TournamentFactory(name="Spring Piano Festival", waitlist_offer_minutes=90)
    starts = (timezone.localtime() + timedelta(days=2)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    block = TimeBlockFactory(
        tournament=tournament,
        location=LocationFactory(name="Blue Room"),
        starts_at=starts,
        slot_capacity=1,
    )
    slot = SlotFactory(time_block=block, starts_at=starts, capacity=1)
    taken = register_someone(slot, contact_email="first@example.com")
    return slot, taken


def test_a_full_slot_join_the_waitlist_someone_cancels_the_offer_link_claims_it(
    page, live_server, shoot, full_slot, mailoutbox
):
    slot, taken = full_slot
    page.goto(live_server.url + f"/t/{slot.tournament.slug}/")
    page.get_by_role("link", name=re.compile("join the waitlist")).first.click()
    page.get_by_role("heading", name="Join the waitlist").wait_for()
    page.get_by_label("Full name").fill("Robin Waits")
    page.get_by_label("E-mail").fill("robin@example.com")
    shoot(page, "1-join")
    page.get_by_role("button", name="Join the waitlist").click()

    page.get_by_role("heading", name="You are on the waitlist").wait_for()
    assert page.locator("#position").inner_text() == "1"
    shoot(page, "2-waiting")
    entry = WaitlistEntry.objects.get()
    assert entry.slot == slot

    mailoutbox.clear()
    services.registration_cancel(registration=taken, actor="public", by_entrant=True)

    offers = [m for m in mailoutbox if m.to == ["robin@example.com"]]
    assert len(offers) == 1, [m.subject for m in mailoutbox]
    (offer_mail,) = offers
    assert "waitlist" in offer_mail.subject.lower()
    path = re.search(r"/r/[A-Za-z0-9_-]+/", offer_mail.body).group(0)
    html = offer_mail.alternatives[0][0]
    assert path in html

    page.goto(live_server.url + path)
    page.get_by_role("heading", name="A place is free for you: claim it").wait_for()
    shoot(page, "3-offer")
    page.get_by_role("button", name="Claim this place").click()
    page.get_by_role("heading", name="You are signed up").wait_for()
    shoot(page, "4-claimed")

    entry.refresh_from_db()
    slot.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.CLAIMED
    assert entry.registration.status == Registration.Status.CONFIRMED
    assert entry.registration.entrant_name == "Robin Waits"
    assert slot.reserved_count == 1

    page.goto(live_server.url + f"/w/{entry.reference}/")
    page.get_by_role("heading", name="You claimed the place").wait_for()
