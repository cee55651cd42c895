"""The public waitlist pages through Django's test client: joining from a full slot, the
private page with the place in line, leaving, and the offer claimed from its link."""

import re

import pytest
from django.urls import reverse

from registrations import services
from registrations.models import Registration, WaitlistEntry
from tests.conftest import form_data, signup_url
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory, register_someone

pytestmark = pytest.mark.django_db


def join_url(tournament, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    url = reverse("registrations:waitlist_join", args=[tournament.slug])
    return url + (f"?{query}" if query else "")


@pytest.fixture
def full_slot(db):
    slot = SlotFactory(capacity=1)
    register_someone(slot)
    return slot


def join_by_name(client, slot, name="Robin Waits", email="robin@example.com"):
    url = join_url(slot.tournament, slot=slot.pk)
    data = form_data(client, url, entrant_name=name, contact_email=email)
    return client.post(url, data)


def test_the_tournament_page_links_a_full_slot_to_its_waitlist(client, full_slot):
    page = client.get(reverse("tournaments:detail", args=[full_slot.tournament.slug]))
    assert join_url(full_slot.tournament, slot=full_slot.pk) in page.content.decode()
    assert "join the waitlist" in page.content.decode()


def test_the_sign_up_page_offers_the_waitlist_of_a_slot_that_filled(client, full_slot):
    page = client.get(signup_url(full_slot.tournament, slot=full_slot.pk)).content.decode()
    assert f"slot={full_slot.pk}" in page
    assert "join its waitlist" in page


def test_joining_shows_the_private_page_with_the_place_in_line(client, full_slot):
    first = join_by_name(client, full_slot)
    entry = WaitlistEntry.objects.get()
    assert first.status_code == 302
    assert first["Location"] == reverse("registrations:waitlist", args=[entry.reference])
    page = client.get(first["Location"]).content.decode()
    assert re.search(r'id="position">1<', page)
    assert "Leave the waitlist" in page

    second = join_by_name(client, full_slot, name="Sam Later", email="sam@example.com")
    page = client.get(second["Location"]).content.decode()
    assert re.search(r'id="position">2<', page)


def test_a_missing_email_is_a_form_error_and_nothing_is_written(client, full_slot):
    url = join_url(full_slot.tournament, slot=full_slot.pk)
    response = client.post(url, form_data(client, url, entrant_name="Robin", contact_email=""))
    assert response.status_code == 400
    assert "offered by e-mail" in response.content.decode()
    assert WaitlistEntry.objects.count() == 0


def test_a_slot_with_room_says_sign_up_instead(client):
    slot = SlotFactory(capacity=2)
    response = join_by_name(client, slot)
    assert response.status_code == 400
    assert "sign up for it instead" in response.content.decode()


def test_an_unknown_slot_is_a_404(client, full_slot):
    other = SlotFactory()
    assert client.get(join_url(full_slot.tournament, slot=other.pk)).status_code == 404
    assert client.get(join_url(full_slot.tournament, slot="nope")).status_code == 404
    assert client.get(reverse("registrations:waitlist", args=["x" * 27])).status_code == 404


def test_a_listed_only_tournament_sends_people_to_find_themselves_first(client):
    tournament = TournamentFactory(allows_typed_names=False)
    slot = SlotFactory(time_block__tournament=tournament)
    response = client.get(join_url(tournament, slot=slot.pk))
    assert response.status_code == 302
    assert reverse("participants:search", args=[tournament.slug]) in response["Location"]
    person = ParticipantFactory()
    register_someone(slot)
    url = join_url(tournament, slot=slot.pk, participant=person.pk)
    response = client.post(url, form_data(client, url, contact_email="p@example.com"))
    assert response.status_code == 302
    assert WaitlistEntry.objects.get().participant == person


def test_leaving_from_the_private_page(client, full_slot):
    location = join_by_name(client, full_slot)["Location"]
    entry = WaitlistEntry.objects.get()
    leave = reverse("registrations:waitlist_leave", args=[entry.reference])
    assert "Leave the waitlist?" in client.get(leave).content.decode()
    response = client.post(leave, {"reason": ""}, follow=True)
    assert "You have left the waitlist." in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.LEFT
    assert "Leave the waitlist" not in client.get(location).content.decode()


def test_the_offer_is_claimed_from_its_link(client, full_slot, mailoutbox):
    join_by_name(client, full_slot)
    entry = WaitlistEntry.objects.get()
    taken = Registration.objects.get(slot=full_slot, status="confirmed")
    services.registration_cancel(registration=taken, actor="test")
    entry.refresh_from_db()
    offer = entry.registration

    waitlist_page = client.get(reverse("registrations:waitlist", args=[entry.reference]))
    assert "A place is free for you" in waitlist_page.content.decode()
    detail = reverse("registrations:detail", args=[offer.reference])
    page = client.get(detail).content.decode()
    assert "Claim this place" in page
    response = client.post(reverse("registrations:confirm", args=[offer.reference]), follow=True)
    assert "Your place is confirmed" in response.content.decode()
    offer.refresh_from_db()
    entry.refresh_from_db()
    assert offer.status == Registration.Status.CONFIRMED
    assert entry.status == WaitlistEntry.Status.CLAIMED
