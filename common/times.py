"""Times as people read them, in one format everywhere (24 h, minutes always), in the
current time zone. Stored times are UTC; only these functions turn them into text.

The current zone is the tournament's: public pages, e-mails, exports, the admin and the
commands switch to it (`tournament_zone`, the `TournamentTimeZoneMiddleware`) before anything
is read or written, so the helpers below keep one signature whatever the zone. Where a time
could be misread (a deadline, a page's or file's first time) it names its zone: "09:20 (CET)".
"""

from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime, time, tzinfo
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.translation import get_language


class HasTimeZone(Protocol):
    time_zone: str


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The zone of an IANA name ("Europe/Paris"); ZoneInfoNotFoundError (a KeyError) if
    there is none."""
    return ZoneInfo(name)


@lru_cache(maxsize=1)
def zone_names() -> list[str]:
    """Every IANA zone name, sorted (for the admin's choice); the deprecated aliases such as
    "US/Eastern" are accepted but not offered."""
    return sorted(
        n for n in available_timezones() if "/" in n and not n.startswith(("US/", "Etc/"))
    )


def time_zone_validate(name: str) -> None:
    """A clear ValidationError unless `name` is an IANA time zone."""
    try:
        if not name or name != name.strip() or "\x00" in name:
            raise ZoneInfoNotFoundError(name)
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "“%(name)s” is not a time zone: use an IANA name such as Europe/Paris or "
            "America/New_York.",
            code="invalid_time_zone",
            params={"name": name},
        ) from None


def time_zone_checked(name: str, *, error: type[Exception]) -> None:
    """Services refuse what the forms refuse: `error` with the same message."""
    try:
        time_zone_validate(name)
    except ValidationError as exc:
        raise error(exc.messages[0]) from None


def default_time_zone() -> str:
    """The zone a new tournament starts with (LINEUP_TIME_ZONE)."""
    return settings.LINEUP_TIME_ZONE


def tournament_zoneinfo(tournament: HasTimeZone) -> ZoneInfo:
    """The tournament's zone as a value (a ZoneInfo, for converting a time or naming the zone):
    its own, else the site's default. To read and write times in it, see the two below."""
    return zone(tournament.time_zone or default_time_zone())


def tournament_zone(tournament: HasTimeZone | None) -> AbstractContextManager[None]:
    """A block (`with`) in which times are read and written in the tournament's zone
    (`tournament_zoneinfo`); None leaves the zone as it is."""
    if tournament is None:
        return nullcontext()
    return timezone.override(tournament_zoneinfo(tournament))


def tournament_zone_activate(tournament: HasTimeZone) -> None:
    """The tournament's zone for the rest of the request (its page renders after the view
    returns); `config.time_zones` resets it when the request ends."""
    timezone.activate(tournament_zoneinfo(tournament))


def local_moment(day: date, clock: time, *, zone_name: str | None = None) -> datetime:
    """The aware moment of a local day and clock time in the named zone (else the current
    one); ValueError for a clock time that does not exist that day (see `local_aware`)."""
    return local_aware(datetime.combine(day, clock), tz=zone(zone_name) if zone_name else None)


def local_aware(naive: datetime, *, tz: tzinfo | None = None) -> datetime:
    """`naive` read as a wall-clock time in `tz` (else the current zone). ValueError for a
    time the clocks skip (02:30 on the spring change in Europe); of the hour lived twice in
    autumn it takes the first."""
    tz = tz or timezone.get_current_timezone()
    aware = naive.replace(tzinfo=tz, fold=0)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise ValueError(f"{naive:%Y-%m-%d %H:%M} does not exist in {tz}: the clocks skip it")
    return aware


def zone_abbreviation(moment: datetime | None = None) -> str:
    """ "CET", "CEST" (summer time counts): what the current zone is called at `moment`
    (now without one). Zones without a letter code give their offset ("+03")."""
    local = timezone.localtime(moment)
    return local.tzname() or f"{local:%z}"


def zone_label(moment: datetime | None = None) -> str:
    """ "Europe/Paris (CET)": the zone's name and what it is called at `moment`."""
    return f"{timezone.get_current_timezone_name()} ({zone_abbreviation(moment)})"


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def local_clock(moment: datetime, *, zone: bool = False) -> str:
    """ "09:20", or "09:20 (CET)" with the zone."""
    text = f"{timezone.localtime(moment):%H:%M}"
    return f"{text} ({zone_abbreviation(moment)})" if zone else text


def short_day_format(*, year: bool = False, clock: bool = False) -> str:
    """The date format of a short day, "Sat 12 Apr" ("sam 12 avr" in French: Django's "M" gives
    the month capitalised in every language, "b" in lower case), with the year and ", 09:00"
    when asked."""
    english = (get_language() or "en").startswith("en")
    return ("D j M" if english else "D j b") + (" Y" if year else "") + (", H:i" if clock else "")


def local_when(
    starts: datetime, ends: datetime | None = None, *, year: bool = False, zone: bool = False
) -> str:
    """ "Sat 12 Apr 09:00", or "Sat 12 Apr 2026 09:00-09:10 (CEST)" with an end, the year and
    the zone."""
    text = f"{date_format(timezone.localtime(starts), short_day_format(year=year))} "
    text += local_clock(starts)
    if ends:
        text = f"{text}-{local_clock(ends)}"
    return f"{text} ({zone_abbreviation(starts)})" if zone else text


def local_when_lazy(starts: datetime, *, zone: bool = False) -> str:
    """`local_when` with the current zone kept, written (lazily) when it is read: in the
    language active then, so a refusal raised on a French page is logged in English."""
    tz = timezone.get_current_timezone()

    def written() -> str:
        with timezone.override(tz):
            return local_when(starts, zone=zone)

    return lazy(written, str)()


def local_span(starts: datetime, ends: datetime) -> str:
    """ "09:00 to 12:00" """
    return f"{local_clock(starts)} to {local_clock(ends)}"


def local_stamp(moment: datetime | None) -> str:
    """ "2026-04-12 09:00" for files (CSV exports, import messages); "" for no time."""
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


def day_pick(asked: str | None, days: list[date], *, any_day: bool = False) -> date | None:
    """The asked-for day (ISO text) if it is one of `days` (or any day, with `any_day`: the
    organizers' grid shows an empty one), else today if it is one, else the next of `days` to
    come, else the first; None without days."""
    try:
        wanted = date.fromisoformat(asked or "")
    except ValueError:
        wanted = None
    if wanted is not None and (any_day or wanted in days):
        return wanted
    today = timezone.localdate()
    if today in days:
        return today
    return next((d for d in days if d >= today), days[0] if days else None)
