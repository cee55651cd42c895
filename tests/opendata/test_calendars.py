"""The .ics files: an entrant's time (page and e-mail) and the public feeds, read back with
the icalendar package, with the local times a person expects."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from icalendar import Calendar

from registrations import services as engine
from tests.factories import (
    LocationFactory,
    ParticipantFactory,
    SlotFactory,
    TimeBlockFactory,
    TournamentFactory,
    register,
)

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def events(body: bytes):
    calendar = Calendar.from_ical(body)
    return calendar, [c for c in calendar.walk("VEVENT")]


@pytest.fixture
def evening(db):
    """A slot at 19:30 Paris time on 14 July (summer: 17:30 UTC) and one on 14 January."""
    tournament = TournamentFactory(slug="summer-gala", name="Summer Gala", time_zone="Europe/Paris")
    room = LocationFactory(name="Salle Pleyel", building="Conservatoire")
    year = datetime.now().year + 1
    summer = datetime(year, 7, 14, 19, 30, tzinfo=PARIS)
    winter = datetime(year, 1, 14, 19, 30, tzinfo=PARIS)
    slots = []
    for starts in (winter, summer):
        block = TimeBlockFactory(
            tournament=tournament,
            location=room,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
        )
        slots.append(
            SlotFactory(time_block=block, starts_at=starts, ends_at=starts + timedelta(minutes=15))
        )
    return tournament, slots


def test_the_entrants_ics_has_the_local_time_room_and_link(client, evening):
    _tournament, (_winter, summer) = evening
    entry = register(summer, ParticipantFactory(first_name="Léa", last_name="Roux"))
    response = client.get(f"/r/{entry.reference}/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="summer-gala-')
    assert "no-cache" in response["Cache-Control"]
    calendar, (event,) = events(response.content)
    starts = event.decoded("dtstart")
    assert starts.tzinfo.key == "Europe/Paris"  # written with TZID, VTIMEZONE included
    assert (starts.hour, starts.minute) == (19, 30)
    assert starts.utcoffset() == timedelta(hours=2)  # summer time
    assert starts.astimezone(ZoneInfo("UTC")).hour == 17
    assert event.decoded("dtend") - starts == timedelta(minutes=15)
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert str(event["location"]) == "Salle Pleyel (Conservatoire)"
    assert str(event["summary"]) == "Summer Gala: Léa Roux"
    assert str(event["url"]) == f"http://testserver/r/{entry.reference}/"
    assert str(event["status"]) == "CONFIRMED"


def test_a_moved_entry_keeps_its_uid_with_a_higher_sequence(client, evening):
    _tournament, (winter, summer) = evening
    entry = register(summer, ParticipantFactory())
    _, (before,) = events(client.get(f"/r/{entry.reference}/calendar.ics").content)
    engine.registration_move(registration=entry, to_slot_id=winter.pk, actor="test")
    _, (after,) = events(client.get(f"/r/{entry.reference}/calendar.ics").content)
    assert after["uid"] == before["uid"]
    assert after.decoded("sequence") > before.decoded("sequence")
    starts = after.decoded("dtstart")
    assert (starts.month, starts.hour, starts.utcoffset()) == (1, 19, timedelta(hours=1))


def test_a_cancelled_entry_gives_a_cancelled_event(client, evening):
    _tournament, (_winter, summer) = evening
    entry = register(summer, ParticipantFactory())
    engine.registration_cancel(registration=entry, actor="test")
    _, (event,) = events(client.get(f"/r/{entry.reference}/calendar.ics").content)
    assert str(event["status"]) == "CANCELLED"


def test_an_unknown_reference_is_a_404(client, db):
    assert client.get("/r/not-a-real-reference-xyz/calendar.ics").status_code == 404


def test_the_confirmation_page_offers_the_ics(client, evening):
    _tournament, (_winter, summer) = evening
    entry = register(summer, ParticipantFactory())
    page = client.get(reverse("registrations:detail", args=[entry.reference])).content.decode()
    assert f'href="/r/{entry.reference}/calendar.ics" download>Add to calendar' in page


def test_the_email_attaches_and_links_the_ics(
    evening, settings, mailoutbox, django_capture_on_commit_callbacks
):
    _tournament, (_winter, summer) = evening
    with django_capture_on_commit_callbacks(execute=True):
        entry = register(summer, ParticipantFactory(), contact_email="parent@example.org")
    (message,) = mailoutbox
    assert f"{settings.LINEUP_BASE_URL}/r/{entry.reference}/calendar.ics" in message.body
    calendars = [a for a in message.attachments if getattr(a, "mimetype", "") == "text/calendar"]
    (attachment,) = calendars
    name, body, _ = attachment
    assert name.endswith(".ics")
    _, (event,) = events(body if isinstance(body, bytes) else body.encode())
    assert event.decoded("dtstart").hour == 19


def test_the_tournament_feed_lists_every_time_with_public_names(client, evening):
    _tournament, (_winter, summer) = evening
    register(summer, ParticipantFactory(first_name="Léa", last_name="Roux"), contact_email="x@y.z")
    response = client.get("/t/summer-gala/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "ETag" in response and "Last-Modified" in response
    calendar, found = events(response.content)
    assert str(calendar["x-wr-calname"]) == "Summer Gala"
    assert [e.decoded("dtstart").strftime("%m-%d %H:%M %Z") for e in found] == [
        "01-14 19:30 CET",
        "07-14 19:30 CEST",
    ]
    assert str(found[1]["summary"]) == "Summer Gala: Léa R."  # the public schedule's name
    assert str(found[0]["summary"]) == "Summer Gala: open time"
    text = response.content.decode()
    assert "Roux" not in text and "x@y.z" not in text
    assert (
        client.get(
            "/t/summer-gala/calendar.ics", headers={"If-None-Match": response["ETag"]}
        ).status_code
        == 304
    )


def test_each_room_has_its_own_feed(client, evening):
    tournament, (_winter, _summer) = evening
    other = SlotFactory(time_block__tournament=tournament, time_block__location__name="Studio B")
    room_feed = client.get(f"/t/summer-gala/rooms/{other.location_id}/calendar.ics")
    calendar, found = events(room_feed.content)
    assert str(calendar["x-wr-calname"]) == "Summer Gala · Studio B"
    assert [str(e["location"]) for e in found] == ["Studio B (Main Hall)"]
    assert len(events(client.get("/t/summer-gala/calendar.ics").content)[1]) == 3
    unknown = LocationFactory()
    assert client.get(f"/t/summer-gala/rooms/{unknown.pk}/calendar.ics").status_code == 404


def test_a_draft_has_no_feed(client, db):
    TournamentFactory(slug="secret", status="draft")
    assert client.get("/t/secret/calendar.ics").status_code == 404


def test_utc_times_are_written_with_a_z(client, db, settings):
    settings.TIME_ZONE = "UTC"
    slot = SlotFactory(time_block__tournament=TournamentFactory(slug="utc-cup"))
    body = client.get("/t/utc-cup/calendar.ics").content.decode()
    assert f"DTSTART:{slot.starts_at:%Y%m%dT%H%M%S}Z" in body
    assert "VTIMEZONE" not in body
