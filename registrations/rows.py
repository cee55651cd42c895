"""Locking and saving one registration row, and queueing the e-mail that tells its contact:
done the same way by every transaction that changes an existing registration."""

from datetime import datetime
from types import EllipsisType
from typing import Any
from uuid import UUID

from django.db.models import F

from registrations.errors import ConcurrentChange
from registrations.models import Registration
from registrations.notifications.outbox import notification_queue


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
    locked = Registration.objects.select_for_update(of=("self",)).get(pk=registration_id)
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentChange()
    if slot_id is not ... and locked.slot_id != slot_id:
        raise ConcurrentChange(
            "This registration was moved at the same moment. Reload and try again."
        )
    return locked


def save_registration(registration: Registration, *, now: datetime, **changes: Any) -> None:
    """Conditional update on the version read under lock; changes `registration` in place.

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
