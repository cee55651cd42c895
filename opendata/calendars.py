"""The subscribable iCalendar feeds of a tournament's public schedule (all rooms, or one):
each time that is not cancelled is an event, named with who is booked in it as the public
schedule shows them (display names only)."""

from common.calendars import CalendarEvent, calendar_ics
from common.times import tournament_zone
from registrations import selectors as registration_selectors
from tournaments import selectors as tournament_selectors
from tournaments.models import Location, Slot, Tournament

# How often a calendar app should fetch the feed again.
REFRESH_MINUTES = 60


def schedule_feed_ics(*, tournament: Tournament, location: Location | None, link: str) -> bytes:
    """The feed as .ics bytes. Two queries a day with times, plus one."""
    events = []
    with tournament_zone(tournament):
        for day in tournament_selectors.tournament_days(tournament=tournament):
            rooms = registration_selectors.day_schedule(
                tournament=tournament, day=day, location=location
            )
            for room in rooms:
                for slot in room.slots:
                    events.append(_event(tournament, slot, room.location, link))
    events.sort(key=lambda e: (e.starts_at, e.location))
    name = f"{tournament.name} · {location.name}" if location else tournament.name
    return calendar_ics(
        tournament=tournament, events=events, name=name, refresh_minutes=REFRESH_MINUTES
    )


def _event(tournament: Tournament, slot: Slot, location: Location, link: str) -> CalendarEvent:
    names: list[str] = slot.public_names  # type: ignore[attr-defined]
    if names:
        who = ", ".join(names)
    elif slot.status == Slot.Status.BLOCKED:
        who = "not available"
    else:
        who = "open time"
    return CalendarEvent(
        uid=f"slot-{slot.pk}@lineup",
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        summary=f"{tournament.name}: {who}",
        location=", ".join(filter(None, [str(location), location.address])),
        description="\n".join([*names, link]),
        url=link,
        stamp=slot.updated_at,
        sequence=slot.version,
    )
