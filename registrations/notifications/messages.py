"""What an e-mail says: the default subject and intro per kind, a tournament's own texts with
their placeholders, and the HTML and plain-text bodies."""

import re
from datetime import datetime, timedelta
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from common.times import local_when, tournament_zone, zone
from registrations import door_codes
from registrations.calendars import registration_calendar_name, registration_ics
from registrations.models import Notification, NotificationText, Registration, WaitlistEntry
from registrations.selectors import waitlist_position
from tournaments.models import Location, Slot, Tournament

Kind = Notification.Kind

# English, marked for the catalogues: a message is written in its entrant's language (`texts_for`
# looks the defaults up in the active one); an organizer's own texts go out as typed.
DEFAULT_TEXTS: dict[str, tuple[str, str]] = {
    Kind.CONFIRMED: (
        gettext_noop("Your place is confirmed: {tournament}"),
        gettext_noop("{entrant} is signed up for {tournament}."),
    ),
    Kind.HELD: (
        gettext_noop("Please confirm your place: {tournament}"),
        gettext_noop("We are holding a place for {entrant} in {tournament}."),
    ),
    Kind.CANCELLED: (
        gettext_noop("Your registration was cancelled: {tournament}"),
        gettext_noop("The registration of {entrant} in {tournament} has been cancelled."),
    ),
    Kind.MOVED: (
        gettext_noop("Your time has changed: {tournament}"),
        gettext_noop("The time of {entrant} in {tournament} has changed."),
    ),
    Kind.REMINDER: (
        gettext_noop("Reminder: {tournament}, {time}"),
        gettext_noop("A reminder that {entrant} is expected at {tournament} on {time} in {room}."),
    ),
    Kind.OFFER: (
        gettext_noop("A place is free for you (waitlist): {tournament}"),
        gettext_noop(
            "A place has come free in {tournament} and it is held for {entrant}, who was next on "
            "the waitlist."
        ),
    ),
    Kind.OFFER_EXPIRED: (
        gettext_noop("Your waitlist offer has expired: {tournament}"),
        gettext_noop(
            "The place offered to {entrant} in {tournament} was not claimed in time, so it has "
            "passed to the next person on the waitlist."
        ),
    ),
    Kind.WAITLIST_JOINED: (
        gettext_noop("You are on the waitlist: {tournament}"),
        gettext_noop(
            "{entrant} is on the waitlist of {tournament} for {time}. If a place comes free, it is "
            "offered to the first in line by e-mail, and held for a while for them to claim."
        ),
    ),
    Kind.LINKS: (
        gettext_noop("Your private links: {tournament}"),
        gettext_noop(
            "Someone (we hope you) asked for the private links of the registrations made with "
            "this address. Each link shows the registration and lets you change or cancel it."
        ),
    ),
}

# Only these exact names are replaced, in one pass: anything else in braces (attribute access,
# format specs, template tags) stays as typed, so an organizer's text can never run code or
# read data it was not given.
PLACEHOLDER = re.compile(r"\{(entrant|tournament|time|room)\}")


def fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def slot_facts(slot: Slot | None) -> dict[str, str]:
    """A slot as the message shows it, in its tournament's zone and naming it ("Sat 12 Apr
    2026 09:00-09:10 (CEST)"); kept in a move's data, since the slot may change. The moments
    and the zone are kept too, so the worker writes the time in the entrant's language
    (`slot_facts_localised`), whoever made the change."""
    if slot is None:
        return {"time": "", "room": ""}
    tournament = slot.tournament if slot.tournament_id else None
    with tournament_zone(tournament):
        when = local_when(slot.starts_at, slot.ends_at, year=True, zone=True)
    facts = {"time": when, "room": str(slot.location)}
    if tournament is not None:
        facts.update(
            starts=slot.starts_at.isoformat(),
            ends=slot.ends_at.isoformat(),
            time_zone=tournament.time_zone,
        )
    return facts


def slot_facts_localised(facts: dict[str, str]) -> dict[str, str]:
    """`slot_facts` kept earlier, with the time written again in the active language (facts
    kept before the moments were, keep their text)."""
    if not facts.get("starts"):
        return facts
    with timezone.override(zone(facts["time_zone"])):
        when = local_when(
            datetime.fromisoformat(facts["starts"]),
            datetime.fromisoformat(facts["ends"]),
            year=True,
            zone=True,
        )
    return {**facts, "time": when}


def texts_for(tournament: Tournament, kind: str) -> tuple[str, str]:
    """The subject and intro templates: the tournament's own where it set them, else ours in
    the active language."""
    subject, intro = (gettext(text) for text in DEFAULT_TEXTS[kind])
    own = NotificationText.objects.filter(tournament=tournament, kind=kind).first()
    if own is not None:
        subject, intro = own.subject or subject, own.intro or intro
    return subject, intro


def render(
    registration: Registration, kind: str, data: dict[str, Any], *, subject: str, intro: str
) -> tuple[str, str, str]:
    """(subject, text body, HTML body) with the placeholders filled in, every time in the
    tournament's zone."""
    with tournament_zone(registration.tournament):
        return _render(registration, kind, data, subject=subject, intro=intro)


def _render(
    registration: Registration, kind: str, data: dict[str, Any], *, subject: str, intro: str
) -> tuple[str, str, str]:
    # A move's new time was kept when it was made; otherwise the slot is read now, already in
    # the active language.
    now_at = slot_facts_localised(data["new"]) if data.get("new") else slot_facts(registration.slot)
    values = {
        "entrant": registration.entrant_name,
        "tournament": registration.tournament.name,
        "time": now_at["time"],
        "room": now_at["room"],
    }
    # A header is one line: the organizer's text or a name must not add header lines.
    subject = " ".join(fill(subject, values).split())
    slot = registration.slot
    context = {
        "registration": registration,
        "tournament": registration.tournament,
        "location": slot.location if slot is not None and kind != Kind.CANCELLED else None,
        "kind": kind,
        "intro": fill(intro, values),
        "was": slot_facts_localised(data["old"]) if data.get("old") else None,
        "now": now_at,
        "link": settings.LINEUP_BASE_URL
        + reverse("registrations:detail", args=[registration.reference]),
        "calendar_link": settings.LINEUP_BASE_URL
        + reverse("opendata:registration_calendar", args=[registration.reference]),
        "tournament_link": settings.LINEUP_BASE_URL
        + reverse("tournaments:detail", args=[registration.tournament.slug]),
        "entries": [
            {
                **slot_facts_localised(entry),
                "link": settings.LINEUP_BASE_URL
                + reverse("registrations:detail", args=[entry["reference"]]),
            }
            for entry in data.get("entries", ())
        ],
        "check_in_code": shows_check_in_code(registration, kind),
        "check_in_cid": door_codes.CONTENT_ID,
        "check_in_label": str(door_codes.LABEL),
    }
    text = render_to_string("emails/registration.txt", context)
    html = render_to_string("emails/registration.html", context)
    return subject, text, html


# The e-mails that tell an entrant when to come carry the check-in QR code.
WITH_CHECK_IN_CODE = (Kind.CONFIRMED, Kind.MOVED, Kind.REMINDER)


def shows_check_in_code(registration: Registration, kind: str) -> bool:
    return kind in WITH_CHECK_IN_CODE and registration.status in Registration.ACTIVE_STATUSES


# The e-mails about one entry's own time carry it as an .ics (the rest: an offer not yet
# taken, a list of links, are about no settled time).
CALENDAR_KINDS = {Kind.CONFIRMED, Kind.HELD, Kind.MOVED, Kind.REMINDER, Kind.CANCELLED}


class RegistrationEmail(EmailMultiAlternatives):
    """An e-mail whose HTML shows inline images (cid:) and which may also carry files.

    Django puts inline parts and files side by side in one multipart, so an .ics next to the
    QR code would land inside multipart/related, where mail apps hide or drop it. Here the
    images sit with the bodies they belong to, and the files stay outside:
    mixed [ related [ alternative [text, html], image ], .ics ].
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inline_images: list[MIMEBase] = []

    def _create_alternatives(self, msg: Any) -> Any:
        msg = super()._create_alternatives(msg)  # type: ignore[misc]  # not in the stubs
        if not self.inline_images:
            return msg
        related = SafeMIMEMultipart(
            _subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET
        )
        related.attach(msg)
        for image in self.inline_images:
            related.attach(image)
        return related


def message_for(notification: Notification) -> EmailMultiAlternatives:
    """The e-mail of a queued notification, written (subject, bodies, dates) in the language its
    entrant signed up in, whoever made the change and whatever the worker's own language; an
    answer to someone asking on a page (their lost links) in the language they asked in."""
    about = notification.waitlist_entry or notification.registration
    language = notification.data.get("language") or (about.language if about else None)
    with translation.override(language):
        if notification.waitlist_entry_id is not None:
            return _waitlist_message(notification)
        return _registration_message(notification)


def _registration_message(notification: Notification) -> EmailMultiAlternatives:
    registration = notification.registration
    assert registration is not None  # the database's notification_about_one_thing
    subject, intro = texts_for(registration.tournament, notification.kind)
    subject, text, html = render(
        registration, notification.kind, notification.data, subject=subject, intro=intro
    )
    message = RegistrationEmail(subject, text, None, [notification.recipient])
    message.attach_alternative(html, "text/html")
    if shows_check_in_code(registration, notification.kind):
        # An inline part (cid:), not a remote image: mail clients show it without fetching.
        image = MIMEImage(door_codes.qr_png(door_codes.check_in_url(registration.pk)), "png")
        image.add_header("Content-ID", f"<{door_codes.CONTENT_ID}>")
        image.add_header("Content-Disposition", "inline", filename="check-in.png")
        message.inline_images.append(image)
    # The time as an event the mail app offers to add (or, for a cancellation, to remove).
    calendar = registration_ics(registration) if notification.kind in CALENDAR_KINDS else None
    if calendar is not None:
        message.attach(registration_calendar_name(registration), calendar, "text/calendar")
    return message


def render_waitlist(
    entry: WaitlistEntry, kind: str, *, subject: str, intro: str, position: int | None
) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of a message about a waitlist entry: its private page
    and its place in line (`position`, None once it is no longer waiting)."""
    with tournament_zone(entry.tournament):
        wanted = slot_facts(entry.slot) if entry.slot_id else {"time": "", "room": ""}
        values = {
            "entrant": entry.entrant_name,
            "tournament": entry.tournament.name,
            "time": wanted["time"] or gettext("the first free time"),
            "room": wanted["room"],
        }
        subject = " ".join(fill(subject, values).split())
        context = {
            "entry": entry,
            "tournament": entry.tournament,
            "intro": fill(intro, values),
            "wanted": wanted,
            "position": position,
            "link": settings.LINEUP_BASE_URL
            + reverse("registrations:waitlist", args=[entry.reference]),
            "tournament_link": settings.LINEUP_BASE_URL
            + reverse("tournaments:detail", args=[entry.tournament.slug]),
        }
        text = render_to_string("emails/waitlist.txt", context)
        html = render_to_string("emails/waitlist.html", context)
    return subject, text, html


def _waitlist_message(notification: Notification) -> EmailMultiAlternatives:
    entry = notification.waitlist_entry
    assert entry is not None
    subject, intro = texts_for(entry.tournament, notification.kind)
    subject, text, html = render_waitlist(
        entry,
        notification.kind,
        subject=subject,
        intro=intro,
        position=waitlist_position(entry),  # as it stands when the message goes
    )
    message = EmailMultiAlternatives(subject, text, None, [notification.recipient])
    message.attach_alternative(html, "text/html")
    return message


def preview(tournament: Tournament, kind: str, *, subject: str, intro: str) -> tuple[str, str, str]:
    """The e-mail an organizer's texts make, for a made-up entrant (nothing is saved)."""
    defaults = [gettext(text) for text in DEFAULT_TEXTS[kind]]
    if kind in Notification.WAITLIST_KINDS:
        starts = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        entry = WaitlistEntry(
            tournament=tournament,
            slot=Slot(
                tournament=tournament,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=10),
                location=Location(name="Hall A"),
            ),
            entrant_name="Alex Example",
            contact_name="Sam Example",
            reference="sample",
        )
        return render_waitlist(
            entry,
            kind,
            subject=subject or defaults[0],
            intro=intro or defaults[1],
            position=3,
        )
    starts = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    slot = Slot(
        tournament=tournament,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=10),
        location=Location(name="Hall A"),
    )
    sample = Registration(
        tournament=tournament,
        slot=slot,
        entrant_name="Alex Example",
        contact_name="Sam Example",
        reference="sample",
        hold_expires_at=starts - timedelta(hours=12),
        cancel_reason="(the reason given)",
    )
    data = {}
    if kind == Kind.MOVED:
        earlier = Slot(
            tournament=tournament,
            starts_at=starts - timedelta(hours=2),
            ends_at=starts,
            location=slot.location,
        )
        data = {"old": slot_facts(earlier), "new": slot_facts(slot)}
    return render(sample, kind, data, subject=subject or defaults[0], intro=intro or defaults[1])
