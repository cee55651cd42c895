"""Zone names for templates: `{% load local_times %}`, then `{{ slot.starts_at|zone }}` for
"CET" (or "CEST" in summer) in the current zone, `{{ slot.starts_at|short_day }}` for
"Sat 12 Apr" (`|short_when`: "Sat 12 Apr, 09:00") in the page's language and zone,
`{% zone_note slot.starts_at %}` for "Times are in Europe/Paris (CET)." Templates of several
tournaments wrap each one in Django's `{% timezone tournament.time_zone %}` (`{% load tz %}`)."""

from datetime import date, datetime

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.translation import gettext

from common.times import short_day_format, zone_abbreviation, zone_label

register = template.Library()


@register.filter
def zone(moment: datetime | None) -> str:
    """ "CET": what the current zone is called at `moment` ("" without one)."""
    return zone_abbreviation(moment) if isinstance(moment, datetime) else ""


@register.simple_tag
def zone_note(moment: datetime | None = None) -> str:
    """ "Times are in Europe/Paris (CEST)." for a page's or e-mail's header."""
    label = zone_label(moment if isinstance(moment, datetime) else None)
    return gettext("Times are in %(zone)s.") % {"zone": label}


@register.filter(expects_localtime=True)
def short_day(moment: date | None, year: str = "") -> str:
    """ "Sat 12 Apr", "sam 12 avr": a day as people write it in the page's language
    (`|short_day:"year"`: "Sat 12 Apr 2026")."""
    return date_filter(moment, short_day_format(year=year == "year"))


@register.filter(expects_localtime=True)
def short_when(moment: date | None) -> str:
    """ "Sat 12 Apr, 09:00", "sam 12 avr, 09:00" """
    return date_filter(moment, short_day_format(clock=True))
