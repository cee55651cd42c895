"""Zone names for templates: `{% load local_times %}`, then `{{ slot.starts_at|zone }}` for
"CET" (or "CEST" in summer) in the current zone, `{% zone_note slot.starts_at %}` for "Times
are in Europe/Paris (CET)." Templates of several tournaments wrap each one in Django's
`{% timezone tournament.time_zone %}` (`{% load tz %}`)."""

from datetime import datetime

from django import template
from django.utils.translation import gettext

from common.times import zone_abbreviation, zone_label

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
