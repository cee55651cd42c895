"""Reads of registrations for the public pages."""

import re

from django.db.models import Sum
from django.http import Http404

from registrations.models import Registration, RegistrationMember
from tournaments.selectors import PUBLIC_STATUSES

# What `new_reference` makes (token_urlsafe): anything else cannot exist, so skip the query.
_REFERENCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


# What the private page shows; the services read the registration afresh under lock.
_DETAIL_FIELDS = (
    "pk",
    "reference",
    "status",
    "entrant_name",
    "seats",
    "team_id",
    "participant_id",
    "contact_email",
    "hold_expires_at",
    "cancelled_at",
    "tournament_id",
    "tournament__name",
    "tournament__slug",
    "tournament__entry_kind",
    "tournament__status",
    "tournament__deleted_at",
    "slot_id",
    "slot__starts_at",
    "slot__ends_at",
    "slot__location_id",
    "slot__location__name",
    "slot__location__building",
)


# Built once (every confirmation page runs it); `get` works on a copy.
_PUBLIC_REGISTRATIONS = (
    Registration.objects.select_related("tournament", "slot__location")
    .only(*_DETAIL_FIELDS)
    .filter(tournament__deleted_at__isnull=True, tournament__status__in=PUBLIC_STATUSES)
)


def registration_get_by_reference(*, reference: str) -> Registration:
    """The registration behind a private reference link, or Http404.

    Unknown, malformed and foreign references (a tournament that is draft or deleted) all
    raise the same Http404, so the answer tells nothing about which it was.
    """
    if not _REFERENCE.match(reference or ""):
        raise Http404("No such registration.")
    try:
        registration = _PUBLIC_REGISTRATIONS.get(reference=reference)
    except Registration.DoesNotExist:
        raise Http404("No such registration.") from None
    # Only team entries have members: individual pages skip the query.
    registration.member_list = (
        list(RegistrationMember.objects.filter(registration=registration).order_by("name"))
        if registration.tournament.is_team_event
        else []
    )
    return registration


def registration_reference_for_key(*, idempotency_key: str) -> tuple | None:
    """(reference, tournament id) of the registration a form's token already made, if any."""
    return (
        Registration.objects.filter(idempotency_key=idempotency_key)
        .values_list("reference", "tournament_id")
        .first()
    )


def tournament_places_taken(*, tournament_id) -> int:
    """Places held by the tournament's active entries (a team takes one per member): what its
    participant cap counts."""
    return (
        Registration.objects.active()
        .filter(tournament_id=tournament_id)
        .aggregate(n=Sum("seats"))["n"]
        or 0
    )
