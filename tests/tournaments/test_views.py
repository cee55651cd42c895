"""Public tournament pages: list with filters, one tournament's times, the day schedule."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registrations import services
from tests.factories import (
    LocationFactory,
    ParticipantFactory,
    SlotFactory,
    TimeBlockFactory,
    TournamentFactory,
)
from tests.factories import register_someone as sign_up
from tournaments.models import Slot, Tournament

pytestmark = pytest.mark.django_db


def make_slots(tournament, count, *, rooms=2, days=2, capacity=2):
    """`count` slots spread over `rooms` rooms and `days` days (10 minutes each)."""
    locations = [LocationFactory() for _ in range(rooms)]
    base = timezone.localtime() + timedelta(days=2)
    base = base.replace(hour=8, minute=0, second=0, microsecond=0)
    slots = []
    for i in range(count):
        day, rest = divmod(i, max(count // days, 1))
        room, position = divmod(rest, max(count // days // rooms, 1))
        location = locations[min(room, rooms - 1)]
        starts = base + timedelta(days=min(day, days - 1), minutes=10 * position)
        slots.append(
            SlotFactory(
                time_block__tournament=tournament,
                time_block__location=location,
                starts_at=starts,
                capacity=capacity,
            )
        )
    return slots


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_published_tournaments_with_dates_rooms_and_places_left(client):
    slot = SlotFactory(capacity=3, time_block__location__name="Blue Hall")
    sign_up(slot)
    TournamentFactory(name="Secret Draft", status=Tournament.Status.DRAFT)
    TournamentFactory(name="Gone", deleted_at=timezone.now())

    response = client.get(reverse("tournaments:list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert slot.tournament.name in html
    assert "Blue Hall" in html
    assert "2 places left" in html
    assert slot.tournament.starts_on.strftime("%-d %b %Y") in html
    assert "Secret Draft" not in html and "Gone" not in html


def test_a_tournament_without_times_says_so_instead_of_full(client):
    TournamentFactory(name="Not Yet")
    html = client.get(reverse("tournaments:list")).content.decode()
    assert "Times not published yet" in html and "No places left" not in html


def test_places_left_respect_the_tournament_cap(client):
    slot = SlotFactory(capacity=10, time_block__tournament__max_participants=4)
    sign_up(slot)
    response = client.get(reverse("tournaments:list"))
    assert "3 places left" in response.content.decode()


def test_it_filters_by_category(client):
    TournamentFactory(name="Chess Open", category=Tournament.Category.ACADEMIC)
    TournamentFactory(name="Violin Day", category=Tournament.Category.MUSIC)
    html = client.get(reverse("tournaments:list"), {"category": "academic"}).content.decode()
    assert "Chess Open" in html and "Violin Day" not in html


def test_it_filters_by_day(client):
    day = timezone.localdate() + timedelta(days=10)
    TournamentFactory(name="On The Day", starts_on=day - timedelta(days=1), ends_on=day)
    TournamentFactory(name="Other Week", starts_on=day + timedelta(days=7), ends_on=None)
    html = client.get(reverse("tournaments:list"), {"day": day.isoformat()}).content.decode()
    assert "On The Day" in html and "Other Week" not in html


def test_it_filters_to_tournaments_open_for_sign_up_now(client):
    TournamentFactory(name="Open Now")
    TournamentFactory(
        name="Opens Later",
        registration_opens_at=timezone.now() + timedelta(days=3),
        registration_closes_at=timezone.now() + timedelta(days=4),
    )
    html = client.get(reverse("tournaments:list"), {"open_now": "on"}).content.decode()
    assert "Open Now" in html and "Opens Later" not in html
    assert "Opens Later" in client.get(reverse("tournaments:list")).content.decode()


def test_a_bad_day_is_explained_not_crashed_on(client):
    TournamentFactory(name="Anything")
    response = client.get(reverse("tournaments:list"), {"day": "next tuesday"})
    assert response.status_code == 200
    assert "Enter a date such as" in response.content.decode()
    assert "No tournaments match these filters" in response.content.decode()


def test_empty_states(client):
    assert "No tournaments are published yet" in client.get("/").content.decode()
    TournamentFactory(category=Tournament.Category.MUSIC)
    html = client.get("/", {"category": "dance"}).content.decode()
    assert "No tournaments match these filters" in html
    assert "Clear filters" in html


def test_the_list_is_paginated_and_keeps_the_filters(client):
    TournamentFactory.create_batch(14, category=Tournament.Category.DANCE)
    first = client.get("/", {"category": "dance"}).content.decode()
    assert "Page 1 of 2" in first
    assert "category=dance&amp;page=2" in first
    second = client.get("/", {"category": "dance", "page": 2})
    assert len(second.context["page"].object_list) == 2


def test_the_list_runs_the_same_queries_for_few_or_many_slots(client):
    small = TournamentFactory()
    make_slots(small, 2)
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    make_slots(TournamentFactory(), 40)
    make_slots(small, 20)
    with CaptureQueriesContext(connection) as many:
        client.get("/")
    assert len(few) == len(many)


# --- one tournament ---------------------------------------------------------------------------


def test_the_page_groups_times_by_day_and_room_with_places_left(client, tournament):
    slots = make_slots(tournament, 8, rooms=2, days=2)
    response = client.get(reverse("tournaments:detail", args=[tournament.slug]))
    days = response.context["days"]
    assert len(days) == 2
    assert [len(day.rooms) for day in days] == [2, 2]
    html = response.content.decode()
    assert "2 places left" in html
    assert f"?slot={slots[0].pk}" in html


def test_full_blocked_and_past_slots_are_greyed_out_and_not_sign_up_links(client, tournament):
    block = TimeBlockFactory(tournament=tournament)
    soon = timezone.now() + timedelta(days=1)
    full = SlotFactory(time_block=block, starts_at=soon, capacity=1)
    blocked = SlotFactory(time_block=block, starts_at=soon + timedelta(hours=1))
    past = SlotFactory(time_block=block, starts_at=timezone.now() - timedelta(hours=1))
    free = SlotFactory(time_block=block, starts_at=soon + timedelta(hours=2))
    sign_up(full)
    Slot.objects.filter(pk=blocked.pk).update(status=Slot.Status.BLOCKED)

    html = client.get(reverse("tournaments:detail", args=[tournament.slug])).content.decode()

    for slot, css, label in [
        (blocked, "slot-blocked", "Not available"),
        (past, "slot-past", "Started"),
    ]:
        assert f"?slot={slot.pk}" not in html
        assert label in html
        assert f'class="slot {css}" aria-disabled="true"' in html
    assert f"?slot={free.pk}" in html
    # A full slot links to its waitlist instead of the sign-up.
    search = reverse("participants:search", args=[tournament.slug])
    waitlist = reverse("registrations:waitlist_join", args=[tournament.slug])
    assert f"{search}?slot={full.pk}" not in html
    assert f"{waitlist}?slot={full.pk}" in html
    assert "Full · join the waitlist" in html


def test_a_closed_tournament_shows_its_times_without_sign_up_links(client):
    tournament = TournamentFactory(registration_closes_at=timezone.now() - timedelta(minutes=1))
    tournament.registration_opens_at = timezone.now() - timedelta(days=2)
    tournament.save()
    slot = SlotFactory(time_block__tournament=tournament)
    html = client.get(reverse("tournaments:detail", args=[tournament.slug])).content.decode()
    assert "Sign-up closed" in html
    assert f"?slot={slot.pk}" not in html
    assert "Find yourself" not in html


def test_draft_deleted_and_unknown_tournaments_are_not_found(client):
    draft = TournamentFactory(status=Tournament.Status.DRAFT)
    deleted = TournamentFactory(deleted_at=timezone.now())
    for slug in [draft.slug, deleted.slug, "no-such-thing"]:
        response = client.get(reverse("tournaments:detail", args=[slug]))
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()


def test_the_tournament_page_runs_the_same_queries_for_few_or_many_slots(client):
    small, big = TournamentFactory(), TournamentFactory()
    make_slots(small, 3)
    make_slots(big, 60, rooms=3, days=3)
    counts = []
    for tournament in (small, big):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("tournaments:detail", args=[tournament.slug]))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- the day schedule -------------------------------------------------------------------------


def test_the_schedule_shows_display_names_only(client):
    slot = SlotFactory(capacity=3)
    zoe = ParticipantFactory(first_name="Zoë", last_name="Núñez", birth_year=2012)
    sign_up(slot, zoe, contact_email="parent@example.com", contact_phone="+44 20 7946 0958")
    services.registration_create(
        tournament=slot.tournament,
        slot_id=slot.pk,
        entrant_name="Maria Garcia Lopez",
        actor="test",
    )

    response = client.get(reverse("tournaments:schedule", args=[slot.tournament.slug]))

    html = response.content.decode()
    assert "Zoë N." in html and "Núñez" not in html
    assert "Maria Garcia L." in html and "Lopez" not in html
    assert "parent@example.com" not in html and "7946" not in html and "2012" not in html
    # Its tables refresh every minute by script (with a pause button), not by a whole-page
    # reload, which axe-core counts as a critical violation; without script, a reload link.
    assert 'data-live-refresh="60"' in html and "data-live-pause" in html
    assert 'http-equiv="refresh"' not in html


def test_the_schedule_shows_full_names_when_the_organizer_chose_them(client):
    slot = SlotFactory(time_block__tournament__public_full_names=True)
    sign_up(slot, ParticipantFactory(first_name="Zoë", last_name="Núñez"))
    html = client.get(reverse("tournaments:schedule", args=[slot.tournament.slug])).content
    assert "Zoë Núñez" in html.decode()


def test_the_schedule_can_show_one_day_and_one_room(client, tournament):
    slots = make_slots(tournament, 8, rooms=2, days=2)
    day = timezone.localtime(slots[-1].starts_at).date()
    room = slots[-1].location
    response = client.get(
        reverse("tournaments:schedule", args=[tournament.slug]),
        {"day": day.isoformat(), "room": str(room.pk)},
    )
    schedule = response.context["schedule"]
    assert [r.location for r in schedule] == [room]
    assert all(timezone.localtime(s.starts_at).date() == day for s in schedule[0].slots)


def test_an_unknown_day_falls_back_to_the_first_day(client, tournament):
    slots = make_slots(tournament, 4, days=2)
    response = client.get(
        reverse("tournaments:schedule", args=[tournament.slug]), {"day": "1999-01-01"}
    )
    assert response.context["day"] == timezone.localtime(slots[0].starts_at).date()


def test_an_empty_schedule_says_so(client, tournament):
    response = client.get(reverse("tournaments:schedule", args=[tournament.slug]))
    assert "The schedule is not published yet" in response.content.decode()


def test_the_schedule_runs_the_same_queries_for_few_or_many_slots(client):
    small, big = TournamentFactory(), TournamentFactory()
    for slot in make_slots(small, 2, days=1):
        sign_up(slot)
    for slot in make_slots(big, 40, rooms=4, days=1, capacity=3)[:20]:
        sign_up(slot)
        sign_up(slot)
    counts = []
    for tournament in (small, big):
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("tournaments:schedule", args=[tournament.slug]))
        counts.append(len(queries))
    assert counts[0] == counts[1]
