"""Writing, locking and saving one registration row, queueing the e-mail that tells its
contact, and writing the webhook outbox: done the same way by every transaction that makes or
changes a registration, so every entry carries the same columns (`insert_registration`) and
every change is synced (`save_registration`, `sync`). The slots a change
touches are locked here too, before the registration (`lock_slots_then_registration`): the
engine's order, which no caller may change without risking a deadlock."""

from collections.abc import Iterable
from datetime import datetime
from types import EllipsisType
from typing import Any
from uuid import UUID

from django.db.models import F

from common.audit import audit_event_record
from registrations.entries import Entry
from registrations.errors import ConcurrentChange
from registrations.models import Registration, RegistrationMember, new_short_reference
from registrations.notifications.outbox import notification_queue
from registrations.sync.outbox import event_for, sync_record
from tournaments.models import Slot, Tournament


def insert_registration(
    *, tournament: Tournament, slot: Slot | None, entry: Entry, status: str, **columns: Any
) -> Registration:
    """Write a new registration of `entry` (its people, name and seats) and its team members:
    the one place an entry's row is made, by a sign-up and by a waitlist offer alike. The
    caller has locked the people and claimed the places; `columns` are the rest (contact,
    language, hold, idempotency key, override)."""
    registration = Registration.objects.create(
        tournament=tournament,
        slot=slot,
        participant_id=entry.participant_id,
        team_id=entry.team_id,
        seats=entry.seats,
        status=status,
        entrant_name=entry.name,
        # Drawn here rather than by the field's default, so that a test can force a clash.
        short_reference=new_short_reference(),
        **columns,
    )
    if entry.members:
        RegistrationMember.objects.bulk_create(
            RegistrationMember(registration=registration, participant_id=pid, name=name)
            for pid, name in entry.members
        )
    return registration


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


def lock_slots(
    slot_ids: Iterable[UUID | None], *, related: tuple[str, ...] = ("location",)
) -> dict[UUID, Slot]:
    """Lock slots in one query in primary-key order, so two changes locking the same slots
    cannot deadlock; `related` is read in the same query, not locked. By id; a slot that no
    longer exists is left out (None ids are skipped)."""
    ids = sorted({pk for pk in slot_ids if pk is not None})
    if not ids:
        return {}
    return {
        slot.pk: slot
        for slot in Slot.objects.select_for_update(of=("self",))
        .select_related(*related)
        .filter(pk__in=ids)
        .order_by("pk")
    }


def lock_slot(slot_id: UUID, *, related: tuple[str, ...] = ("location",)) -> Slot:
    """One slot, locked as `lock_slots` locks them; `Slot.DoesNotExist` if it is gone."""
    slot = lock_slots([slot_id], related=related).get(slot_id)
    if slot is None:
        raise Slot.DoesNotExist(f"Slot {slot_id} does not exist.")
    return slot


def lock_slots_then_registration(
    registration_id: UUID,
    *,
    slot_ids: Iterable[UUID | None],
    in_slot: UUID | None,
    expected_version: int | None = None,
    related: tuple[str, ...] = ("location",),
) -> tuple[dict[UUID, Slot], Registration]:
    """The engine's lock step for changing one registration: the slots it touches (its own,
    and any it moves to) by id, then the registration (`lock_registration`, which raises
    `ConcurrentChange` unless it is still in `in_slot` at `expected_version`)."""
    slots = lock_slots(slot_ids, related=related)
    locked = lock_registration(registration_id, expected_version=expected_version, slot_id=in_slot)
    return slots, locked


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
