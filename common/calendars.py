"""iCalendar (.ics) files: one entrant's time, and the feeds of a tournament's schedule.

Every time written here goes through `tournament_time`, in the zone `common.times` gives
the tournament (`tournament_zoneinfo`: its own, else the default zone).
Events in UTC are written with a trailing Z; any other zone with its TZID
and the VTIMEZONE a calendar app needs to read it, so the app shows the local time of the
venue whatever zone its owner is in.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from icalendar import Calendar, Event, vDuration

from common.times import HasTimeZone, tournament_zoneinfo

PRODUCT_ID = "-//Lineup//Schedules//EN"


def tournament_time(moment: datetime, tournament: HasTimeZone) -> datetime:
    """A stored (UTC) time as the tournament's local time, with its zone attached."""
    return moment.astimezone(tournament_zoneinfo(tournament))


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""
    stamp: datetime | None = None  # when this version of the event was made (DTSTAMP)
    sequence: int = 0  # bumped when the event changes, so apps replace their copy
    cancelled: bool = False


def calendar_ics(
    *,
    tournament: HasTimeZone,
    events: Iterable[CalendarEvent],
    name: str,
    refresh_minutes: int | None = None,
) -> bytes:
    """The events as one VCALENDAR, their times in the tournament's zone (see above).

    `refresh_minutes` marks a subscribable feed: apps that honour REFRESH-INTERVAL (or
    Outlook's X-PUBLISHED-TTL) fetch it again that often.
    """
    tz = tournament_zoneinfo(tournament)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", str(tz.key))
    if refresh_minutes:
        every = timedelta(minutes=refresh_minutes)
        calendar.add("refresh-interval", every, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(every))
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", item.stamp or item.starts_at)
        event.add("dtstart", tournament_time(item.starts_at, tournament))
        event.add("dtend", tournament_time(item.ends_at, tournament))
        event.add("summary", item.summary)
        if item.location:
            event.add("location", item.location)
        if item.description:
            event.add("description", item.description)
        if item.url:
            event.add("url", item.url)
        event.add("sequence", item.sequence)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        calendar.add_component(event)
    # The VTIMEZONE of each TZID used (none for UTC), built from the zone database.
    calendar.add_missing_timezones()
    return calendar.to_ical()
