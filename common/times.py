"""Times as people read them, in one format everywhere (24 h, minutes always), in the
current time zone. Stored times are UTC; only these functions turn them into text."""

from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def local_clock(moment: datetime) -> str:
    """ "09:20" """
    return f"{timezone.localtime(moment):%H:%M}"


def local_when(starts: datetime, ends: datetime | None = None, *, year: bool = False) -> str:
    """ "Sat 12 Apr 09:00", or "Sat 12 Apr 2026 09:00-09:10" with an end and the year."""
    text = f"{date_format(timezone.localtime(starts), 'D j M Y' if year else 'D j M')} "
    text += local_clock(starts)
    return f"{text}-{local_clock(ends)}" if ends else text


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
