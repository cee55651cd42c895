"""The tournament pages: closed and full tournaments stay listed with the organizers' contact,
the next open time and an open-only filter on a tournament's page, the venue screen."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import LocationFactory, ParticipantFactory, SlotFactory, TournamentFactory
from tournaments.models import Slot, Tournament

pytestmark = pytest.mark.django_db


def contact(**kwargs):
    return {
        "organizer_name": "Olga Organizer",
        "organizer_email": "olga@example.org",
        "organizer_phone": "+44 20 7946 0000",
        **kwargs,
    }


def test_a_closed_tournament_stays_on_the_home_page_marked_with_its_organizers(client):
    closed = TournamentFactory(name="Closed Cup", status=Tournament.Status.CLOSED, **contact())
    SlotFactory(time_block__tournament=closed)
    TournamentFactory(name="Draft Cup", status=Tournament.Status.DRAFT)
    html = client.get("/").content.decode()
    assert "Closed Cup" in html
    assert "Draft Cup" not in html
    card = html[html.index("Closed Cup") :]
    card = card[: card.index("</li>")]
    assert "Sign-up closed" in card
    assert "places left" not in card
    assert "olga@example.org" in card


def test_a_full_tournament_is_marked_full_with_its_organizers(client):
    full = TournamentFactory(name="Full Cup", **contact())
    slot = SlotFactory(time_block__tournament=full)
    Slot.objects.filter(pk=slot.pk).update(reserved_count=1)
    html = client.get("/").content.decode()
    card = html[html.index("Full Cup") :]
    card = card[: card.index("</li>")]
    assert "Full</span>" in card
    assert "Olga Organizer" in card


def test_open_now_lists_no_closed_tournament(client):
    TournamentFactory(name="Closed Cup", status=Tournament.Status.CLOSED)
    TournamentFactory(name="Open Cup")
    html = client.get("/", {"open_now": "on"}).content.decode()
    assert "Open Cup" in html
    assert "Closed Cup" not in html


def test_the_festival_search_offers_no_closed_tournament(client):
    person = ParticipantFactory(first_name="Zoe", last_name="Nunez")
    closed = TournamentFactory(name="Closed Cup", status=Tournament.Status.CLOSED)
    SlotFactory(time_block__tournament=closed)
    html = client.get("/", {"q": "zoe nunez"}).content.decode()
    assert person.first_name in html
    assert f"/t/{closed.slug}/sign-up/" not in html


def test_a_tournament_page_shows_its_organizers(client):
    tournament = TournamentFactory(**contact())
    html = client.get(reverse("tournaments:detail", args=[tournament.slug])).content.decode()
    assert "Questions? Contact Olga Organizer" in html
    assert "mailto:olga@example.org" in html
    assert 'href="tel:+442079460000"' in html


def test_the_next_open_time_and_the_open_only_filter(client):
    tournament = TournamentFactory()
    first = SlotFactory(time_block__tournament=tournament, capacity=1)
    Slot.objects.filter(pk=first.pk).update(reserved_count=1)  # full
    second = SlotFactory(
        time_block=first.time_block,
        number=2,
        starts_at=first.ends_at,
        ends_at=first.ends_at + timedelta(minutes=10),
    )
    url = reverse("tournaments:detail", args=[tournament.slug])
    html = client.get(url).content.decode()
    assert f'Next open time: <a href="/t/{tournament.slug}/find/?slot={second.pk}"' in html
    assert "Show only open times</a> (1)" in html
    assert "Full · join the waitlist</span>" in html
    only_open = client.get(url, {"open": "1"}).content.decode()
    assert f"slot={second.pk}" in only_open
    assert "Full · join the waitlist</span>" not in only_open
    assert "Show every time" in only_open


def test_the_venue_screen_shows_now_and_next_per_room(client):
    tournament = TournamentFactory(public_full_names=True)
    now = timezone.now()
    blue, green = LocationFactory(name="Blue Room"), LocationFactory(name="Green Room")
    running = SlotFactory(
        time_block__tournament=tournament,
        time_block__location=blue,
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(minutes=5),
        capacity=1,
    )
    coming = SlotFactory(
        time_block=running.time_block,
        number=2,
        starts_at=now + timedelta(minutes=5),
        ends_at=now + timedelta(minutes=15),
        capacity=1,
    )
    SlotFactory(
        time_block__tournament=tournament,
        time_block__location=green,
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(hours=1, minutes=50),
    )  # over: the room drops out
    from registrations import services

    for slot, first in ((running, "Ann"), (coming, "Bo")):
        services.registration_create(
            tournament=tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(first_name=first, last_name="Lee"),
            actor="test",
            override_reason="started already" if slot is running else "",
        )
    response = client.get(reverse("tournaments:screen", args=[tournament.slug]))
    html = response.content.decode()
    assert response.status_code == 200
    if timezone.localdate(running.starts_at) == timezone.localdate(now):
        assert "Blue Room" in html
        assert "Ann Lee" in html
        assert "Bo Lee" in html
        assert html.index("Ann Lee") < html.index("Bo Lee")
    assert "Green Room" not in html
    assert 'http-equiv="refresh"' not in html
    assert 'data-live-refresh="30"' in html


def test_an_empty_venue_screen_says_so(client):
    tournament = TournamentFactory()
    html = client.get(reverse("tournaments:screen", args=[tournament.slug])).content.decode()
    assert "Nothing more is scheduled today." in html
