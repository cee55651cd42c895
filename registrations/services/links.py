"""'I lost my link': the private links of a contact's registrations, e-mailed again."""

from typing import Any

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Replace

from common.audit import audit_event_record
from common.phones import phone_key
from registrations.models import Notification, Registration
from registrations.notifications.messages import slot_facts
from registrations.notifications.outbox import notification_queue
from registrations.rules import language_checked
from tournaments.selectors import PUBLIC_STATUSES

# Enough for a family at a festival; a contact with more gets the newest.
MAX_LINKS = 20
# What people put between a phone number's digits.
_PHONE_SEPARATORS = (" ", "-", "(", ")", ".", "/")
# Digits compared in the database first; the whole number is then compared by its key.
_PHONE_TAIL = 7


def _phone_digits(expression: Any) -> Any:
    """SQL: a phone column without its separators (Replace works on SQLite and PostgreSQL)."""
    for separator in _PHONE_SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    return expression


def registration_links_send(
    *, email: str = "", phone: str = "", actor: str, language: str = ""
) -> int:
    """E-mail the private links of the active registrations (in public tournaments) whose
    contact is `email`, or whose contact phone is `phone` (the same number however written:
    separators, country code or trunk zero, see `phone_key`): one message
    per address on file, listing at most `MAX_LINKS` entries, newest first. Entries with a
    phone but no e-mail address cannot be reached this way. Each message is written in
    `language`, the one the person asked in (`InvalidEntry` if the site does not speak it);
    without one, in its newest entry's.

    Returns the number of messages queued; callers must not tell the person (the page says
    the same whether or not anything matched). Each message is audited on its newest entry.
    """
    email, phone = email.strip(), phone_key(phone) if phone.strip() else ""
    if not email and not phone:
        return 0
    language = language_checked(language) if language else ""
    found = Registration.objects.active().filter(
        tournament__deleted_at__isnull=True, tournament__status__in=PUBLIC_STATUSES
    )
    if email:
        found = found.filter(contact_email__iexact=email)
    else:
        found = (
            found.annotate(plain_phone=_phone_digits("contact_phone"))
            .filter(plain_phone__endswith=phone[-_PHONE_TAIL:])
            .exclude(contact_email="")
        )
    entries = [
        registration
        # Numbers sharing their last digits are few: a bounded look suffices.
        for registration in found.select_related("tournament", "slot__location").order_by(
            "-created_at"
        )[: MAX_LINKS * 5]
        if email or phone_key(registration.contact_phone) == phone
    ][:MAX_LINKS]
    by_address: dict[str, list[Registration]] = {}
    for registration in entries:
        by_address.setdefault(registration.contact_email.lower(), []).append(registration)
    with transaction.atomic():
        for registrations in by_address.values():
            newest = registrations[0]
            notification_queue(
                registration=newest,
                kind=Notification.Kind.LINKS,
                recipient=newest.contact_email,
                data={
                    "entries": [
                        {
                            "reference": r.reference,
                            "short_reference": r.short_reference_display,
                            "tournament": r.tournament.name,
                            "entrant": r.entrant_name,
                            **slot_facts(r.slot),
                        }
                        for r in registrations
                    ],
                    # The person is reading a page in it now; their entries may be in others.
                    **({"language": language} if language else {}),
                },
            )
            audit_event_record(
                actor=actor,
                action="registration.links_sent",
                target=newest,
                entries=len(registrations),
                asked_by="phone" if phone and not email else "e-mail",
            )
    return len(by_address)
