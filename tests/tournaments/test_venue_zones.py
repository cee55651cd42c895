"""The venue day grid on a UTC server for a venue whose tournaments are in Europe/Paris: the
day is the venue's, each slot's times its own tournament's."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from registrations import venue
from tests.factories import LocationFactory, SlotFactory, TournamentFactory, register_someone

pytestmark = pytest.mark.django_db

# 23:30 UTC on Thursday 14 January is 00:30 on Friday 15 January in Paris (CET, UTC+1).
LATE = datetime(2027, 1, 14, 23, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc_server(settings):
    settings.TIME_ZONE = "UTC"
    settings.LINEUP_TIME_ZONE = "UTC"
    timezone.activate("UTC")
    yield
    timezone.deactivate()


def paris_slot(room, *, at=LATE, name="Nuit du Piano"):
    tournament = TournamentFactory(
        name=name, time_zone="Europe/Paris", starts_on=date(2027, 1, 14), ends_on=date(2027, 1, 15)
    )
    return SlotFactory(
        time_block__tournament=tournament,
        time_block__location=room,
        starts_at=at,
        capacity=2,
    )


def grid_page(client, day):
    return client.get(reverse("admin:tournaments_venue_day") + f"?day={day:%Y-%m-%d}")


def test_a_paris_slot_after_midnight_is_on_the_paris_day_at_its_paris_time(organizer_client):
    room = LocationFactory(name="Salle Pleyel")
    slot = paris_slot(room)
    register_someone(slot)

    friday = grid_page(organizer_client, date(2027, 1, 15))
    thursday = grid_page(organizer_client, date(2027, 1, 14))

    assert friday.context["days"] == [date(2027, 1, 15)]
    assert friday.context["venue_zone"] == "Europe/Paris"
    ((cell,),) = friday.context["grid"].rows[0].cells
    assert cell.slot == slot
    assert [row.time for row in friday.context["grid"].rows] == ["00:30"]
    page = friday.content.decode()
    assert "00:30-00:40" in page
    assert "23:30" not in page  # the server's UTC clock shows nowhere
    assert "in Europe/Paris" in page
    assert thursday.context["grid"].rows == []


def test_without_a_day_asked_it_opens_on_the_venues_day():
    room = LocationFactory(name="Salle Pleyel")
    paris_slot(room)
    with timezone.override("Europe/Paris"):
        assert venue.venue_days() == [date(2027, 1, 15)]
    assert venue.venue_days() == [date(2027, 1, 14)]  # the same slot on a UTC clock


def test_a_tournament_in_another_zone_shows_its_own_time_with_its_zone(organizer_client):
    room = LocationFactory(name="Salle Pleyel")
    paris_slot(room, name="Piano")
    paris_slot(room, at=LATE + timedelta(hours=2), name="Violon")
    london = TournamentFactory(name="Choir", time_zone="Europe/London", changeover_minutes=30)
    SlotFactory(
        time_block__tournament=london,
        time_block__location=room,
        starts_at=LATE + timedelta(minutes=20),
    )

    response = grid_page(organizer_client, date(2027, 1, 15))

    assert response.context["venue_zone"] == "Europe/Paris"  # two of three tournaments
    spans = {
        cell.slot.tournament.name: cell.span
        for row in response.context["grid"].rows
        for cells in row.cells
        for cell in cells
    }
    assert spans == {
        "Piano": "00:30-00:40",
        "Violon": "02:30-02:40",
        "Choir": "23:50-00:00 (GMT)",
    }
    # Piano hands the room to Choir 10 minutes later (Choir needs 30): the problem gives each
    # time on its own tournament's clock too.
    (problem,) = response.context["grid"].problems
    assert problem.text == (
        "Salle Pleyel: 10 min between Piano (ends 00:40) and Choir (starts 23:50 (GMT)); "
        "the changeover needs 30."
    )


def test_a_venue_with_no_tournaments_counts_days_in_the_default_zone(settings):
    settings.LINEUP_TIME_ZONE = "Asia/Tokyo"
    assert venue.venue_zone() == "Asia/Tokyo"
