"""An entrant's time as an .ics file ("add to calendar"): offered on the private page and
attached to the e-mails that give or change a time."""

from django.conf import settings
from django.urls import reverse

from common.calendars import CalendarEvent, calendar_ics
from registrations.models import Registration


def registration_calendar_name(registration: Registration) -> str:
    return f"{registration.tournament.slug}-{registration.reference[:8]}.ics"


def registration_ics(registration: Registration, *, link: str | None = None) -> bytes | None:
    """The entrant's slot as one event (room and building as its place, the private link in
    it), or None for an entry without a time. A cancelled entry gives the same event marked
    cancelled, so a calendar that imported it can drop it. The uid stays the same across
    moves and the sequence grows with the registration's version, so an app replaces its copy.
    """
    slot = registration.slot
    if slot is None:
        return None
    tournament = registration.tournament
    link = link or settings.LINEUP_BASE_URL + reverse(
        "registrations:detail", args=[registration.reference]
    )
    event = CalendarEvent(
        uid=f"registration-{registration.pk}@lineup",
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        summary=f"{tournament.name}: {registration.entrant_name}",
        location=", ".join(filter(None, [str(slot.location), slot.location.address])),
        description=f"Reference: {registration.reference}\nView or cancel: {link}",
        url=link,
        stamp=getattr(registration, "updated_at", None) or slot.starts_at,
        sequence=getattr(registration, "version", 1) or 1,
        cancelled=registration.status == Registration.Status.CANCELLED,
    )
    return calendar_ics(tournament=tournament, events=[event], name=tournament.name)
