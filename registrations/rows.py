"""Locking and saving one registration row, queueing the e-mail that tells its contact, and
writing the webhook outbox: done the same way by every transaction that changes a
registration, so every change is synced (`save_registration`, `sync`)."""

from datetime import datetime
from types import EllipsisType
from typing import Any
from uuid import UUID

from django.db.models import F

from common.audit import audit_event_record
from registrations.errors import ConcurrentChange
from registrations.models import Registration
from registrations.notifications.outbox import notification_queue
from registrations.sync.outbox import event_for, sync_record
from tournaments.models import Slot


def lock_registration(
    registration_id: UUID,
    *,
    expected_version: int | None = None,
    slot_id: UUID | EllipsisType | None = ...,
) -> Registration:
    """Lock one registration and re-check what the caller read before locking.

    Raises `ConcurrentChange` if its version is not `expected_version` (when given) or it is
    no longer in `slot_id` (when given; None is "in no slot", so `...` means "not checked").
    """
    # With its tournament (not locked): whether it has webhooks, at no extra statement.
    locked = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("tournament")
        .get(pk=registration_id)
    )
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentChange()
    if slot_id is not ... and locked.slot_id != slot_id:
        raise ConcurrentChange(
            "This registration was moved at the same moment. Reload and try again."
        )
    return locked


def save_registration(registration: Registration, *, now: datetime, **changes: Any) -> None:
    """Conditional update on the version read under lock; changes `registration` in place and
    writes the webhook outbox for the change (its event follows from `changes`).

    Raises `ConcurrentChange` if the row's version moved on meanwhile.
    """
    updated = Registration.objects.filter(pk=registration.pk, version=registration.version).update(
        version=F("version") + 1, updated_at=now, **changes
    )
    if updated != 1:
        raise ConcurrentChange()
    for name, value in changes.items():
        setattr(registration, name, value)
    registration.version += 1
    sync(registration, event_for(changes))


def save_cancelled(registration: Registration, *, now: datetime, reason: str) -> None:
    """`save_registration` as cancelled: its hold and the capacity an override added end too."""
    save_registration(
        registration,
        now=now,
        status=Registration.Status.CANCELLED,
        cancelled_at=now,
        cancel_reason=reason,
        hold_expires_at=None,
        override_seats=0,
    )


def notify(registration: Registration, kind: str, *, data: dict[str, Any] | None = None) -> None:
    """Queue an e-mail to the registration's contact about `kind` in this transaction: it is
    sent by the worker if (and only if) the transaction commits, and never blocks it."""
    notification_queue(registration=registration, kind=kind, data=data)


def sync(registration: Registration, event: str) -> None:
    """Write the webhook outbox for one change of `registration` in this transaction
    (`registrations.sync.outbox`): delivered by the worker only if the transaction commits."""
    sync_record(registration=registration, event=event)


def audit_override_added(
    *, actor: str, slot: Slot, registration: Registration, seats: int, reason: str
) -> None:
    """The slot's own history: an override raised its capacity (`slot` as locked, before)."""
    audit_event_record(
        actor=actor,
        action="slot.override",
        target=slot,
        at=slot.audit_facts(),
        registration=str(registration.pk),
        entrant=registration.entrant_name,
        capacity_before=slot.capacity,
        capacity_after=slot.capacity + seats,
        reason=reason,
    )


def audit_override_given_back(
    *, actor: str, slot: Slot, registration: Registration, seats: int
) -> None:
    """The slot's own history: an overridden entry left and took its extra places with it."""
    audit_event_record(
        actor=actor,
        action="slot.override_given_back",
        target=slot,
        at=slot.audit_facts(),
        registration=str(registration.pk),
        entrant=registration.entrant_name,
        capacity_before=slot.capacity,
        capacity_after=slot.capacity - seats,
    )
