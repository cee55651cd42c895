"""The write side: a registration change writes its outbox rows (one per endpoint that wants
the event) in the transaction of the change, so a change that rolls back is never sent."""

from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from registrations import retries
from registrations.models import Registration, WebhookDelivery, WebhookEndpoint
from registrations.sync.delivery import deliver_webhooks
from tournaments.models import Tournament

Event = WebhookEndpoint.Event
Status = Registration.Status

_STATUS_EVENTS = {
    Status.CONFIRMED: Event.CONFIRMED,
    Status.CANCELLED: Event.CANCELLED,
    Status.CHECKED_IN: Event.CHECKED_IN,
    Status.NO_SHOW: Event.NO_SHOW,
}

# What a receiver learns about a registration. Not the reference: it is the entrant's key to
# view and cancel their entry.
SNAPSHOT_FIELDS = (
    "tournament_id",
    "slot_id",
    "participant_id",
    "team_id",
    "status",
    "seats",
    "entrant_name",
    "contact_name",
    "contact_email",
    "contact_phone",
    "confirmed_at",
    "checked_in_at",
    "cancelled_at",
    "cancel_reason",
    "hold_expires_at",
    "version",
)


def event_for(changes: Mapping[str, Any]) -> str:
    """The event a saved change stands for: its new status, else a move, else an update."""
    if "status" in changes and changes["status"] in _STATUS_EVENTS:
        return _STATUS_EVENTS[changes["status"]]
    if "slot_id" in changes:
        return Event.MOVED
    return Event.UPDATED


def snapshot(registration: Registration) -> dict[str, Any]:
    """The registration as it is now, from the row in hand (no query)."""
    data = {name: getattr(registration, name) for name in SNAPSHOT_FIELDS}
    return {"id": registration.pk, **data}


def _tournament_syncs(registration: Registration) -> bool:
    # The engine's paths load the tournament with the row they lock: then this costs nothing.
    if Registration.tournament.is_cached(registration):
        return registration.tournament.has_webhooks
    return Tournament.objects.filter(pk=registration.tournament_id, has_webhooks=True).exists()


def sync_record(*, registration: Registration, event: str) -> int:
    """Write the outbox rows for one change of `registration` in the caller's transaction and
    enqueue its delivery with it; returns the rows written. A tournament without webhooks
    costs nothing; one with them costs a read of its endpoints, one INSERT, and the task's.
    The caller holds the registration's row lock (or has just made it), so the rows' ids
    follow the order of its changes."""
    if not _tournament_syncs(registration):
        return 0
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            tournament_id=registration.tournament_id, active=True
        )
        if endpoint.wants(event)
    ]
    if not endpoints:
        return 0
    now = timezone.now()
    payload = snapshot(registration)
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            registration=registration,
            endpoint=endpoint,
            event=event,
            payload=payload,
            next_attempt_at=now,
            enqueued_at=now,
        )
        for endpoint in endpoints
    )

    retries.enqueue(deliver_webhooks, registration_id=str(registration.pk))
    return len(endpoints)
