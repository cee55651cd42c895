"""Changes to a registration that exists: cancel, move, the status steps (confirm, check in,
no-show), expired holds, contact details.

Each locks its slots before the registration (the engine's order), re-reads the registration
under lock through `lock_registration` and writes it through `save_registration`, whose
conditional UPDATE on the version refuses a change that raced it.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.utils import timezone

from common.audit import audit_event_record
from common.locking import Busy, locked_atomic
from registrations.entries import entry_of, lock_people
from registrations.errors import InvalidEntry, RegistrationError, SlotUnavailable, StatusConflict
from registrations.models import Registration, WaitlistEntry
from registrations.notifications.messages import slot_facts
from registrations.places import claim_places, release_places
from registrations.rows import (
    lock_registration,
    notify,
    save_cancelled,
    save_registration,
)
from registrations.rules import (
    check_hold_open,
    check_no_clash,
    check_slot,
    entrant_cancel_refusal,
    entrant_change_refusal,
    slot_uuid,
)
from registrations.services.waitlist import (
    offer_free_places,
    waitlist_offer_claim,
    waitlist_place_released,
)
from tournaments.models import Slot

logger = logging.getLogger(__name__)

Status = Registration.Status
WaitlistStatus = WaitlistEntry.Status


def registration_cancel(
    *,
    registration: Registration,
    actor: str,
    reason: str = "",
    expected_version: int | None = None,
    by_entrant: bool = False,
) -> Registration:
    """Cancel an active registration and give its places back at once.

    Raises `StatusConflict` if it is already cancelled, or, `by_entrant` (the private page),
    unless it is held or confirmed and its slot has not started; `ConcurrentChange` if it
    moved or changed under the caller (`expected_version`).
    """
    slot_id = Registration.objects.values_list("slot_id", flat=True).get(pk=registration.pk)
    now = timezone.now()
    with locked_atomic():
        slot_starts_at = None
        if slot_id:
            slot_starts_at = (
                Slot.objects.select_for_update().filter(pk=slot_id).values_list("starts_at").get()
            )[0]
        locked = lock_registration(
            registration.pk, expected_version=expected_version, slot_id=slot_id
        )
        if locked.status == Status.CANCELLED:
            raise StatusConflict("This registration is already cancelled.")
        if by_entrant:
            refusal = entrant_cancel_refusal(locked, slot_starts_at=slot_starts_at, now=now)
            if refusal:
                raise StatusConflict(refusal)
        if slot_id:
            release_places(slot_id, locked.seats, locked.override_seats, now=now)
        save_cancelled(locked, now=now, reason=reason.strip())
        audit_event_record(
            actor=actor,
            action="registration.cancel",
            target=locked,
            slot=str(slot_id) if slot_id else None,
            seats=locked.seats,
            reason=reason.strip(),
        )
        notify(locked, "cancelled")
        # A declined offer closes its waitlist entry; the freed place goes to the next in line
        # while this transaction still holds the slot.
        waitlist_place_released(
            locked, slot_id=slot_id, offer_outcome=WaitlistStatus.LEFT, now=now, actor=actor
        )
    return locked


def registration_move(
    *,
    registration: Registration,
    to_slot_id: UUID | str,
    actor: str,
    override_reason: str = "",
    expected_version: int | None = None,
    by_entrant: bool = False,
) -> Registration:
    """Move an entry to another slot of the same tournament.

    Both slots are locked in one query in primary-key order, so two opposite moves cannot
    deadlock. The target must be open, not started and have room (unless `override_reason`
    is given), and the move must not create a schedule clash for anyone in the entry.
    `by_entrant` (the private page) also needs the entry held or confirmed, the sign-up
    window open and the current time not started (`entrant_change_refusal`: `StatusConflict`).
    """
    current = Registration.objects.get(pk=registration.pk)
    entry = entry_of(current)
    override_reason = override_reason.strip()
    now = timezone.now()
    with locked_atomic():
        lock_people(entry)
        to_slot = slot_uuid(to_slot_id)
        slot_ids = sorted({pk for pk in (to_slot, current.slot_id) if pk is not None})
        slots = {
            s.pk: s
            for s in Slot.objects.select_for_update(of=("self",))
            .select_related("tournament", "location")
            .filter(pk__in=slot_ids)
            .order_by("pk")
        }
        locked = lock_registration(
            current.pk, expected_version=expected_version, slot_id=current.slot_id
        )
        if locked.status not in (Status.RESERVED, Status.CONFIRMED):
            raise StatusConflict(
                f"A registration that is {locked.get_status_display().lower()} cannot be moved."
            )
        if by_entrant:
            current_slot = slots.get(locked.slot_id) if locked.slot_id else None
            refusal = entrant_change_refusal(
                locked,
                tournament=locked.tournament,
                slot_starts_at=current_slot.starts_at if current_slot else None,
                now=now,
            )
            if refusal:
                raise StatusConflict(refusal)
        target = slots.get(to_slot)
        if target is None:
            raise SlotUnavailable("That slot no longer exists.")
        if target.tournament_id != locked.tournament_id:
            raise SlotUnavailable("That slot belongs to another tournament.")
        if target.pk == locked.slot_id:
            raise SlotUnavailable("The registration is already in that slot.")
        override = bool(override_reason)
        check_slot(target, now, override=override)
        check_no_clash(entry, target, exclude_id=locked.pk)
        if locked.slot_id:
            release_places(locked.slot_id, locked.seats, locked.override_seats, now=now)
        added = claim_places(target, locked.seats, override=override, now=now)
        from_slot = locked.slot_id
        save_registration(
            locked,
            now=now,
            slot_id=target.pk,
            override_seats=added,
            override_reason=override_reason or locked.override_reason,
        )
        overridden: dict[str, Any] = (
            {"reason": override_reason, "capacity_added": added} if override else {}
        )
        audit_event_record(
            actor=actor,
            action="registration.move",
            target=locked,
            from_slot=str(from_slot) if from_slot else None,
            to_slot=str(target.pk),
            **overridden,
        )
        # The message shows the old time too, which the registration no longer knows.
        notify(
            locked,
            "moved",
            data={
                "old": slot_facts(slots[from_slot] if from_slot else None),
                "new": slot_facts(target),
            },
        )
        if from_slot:  # the place it left goes to the waitlist, under the same locks
            offer_free_places(
                tournament_id=locked.tournament_id, held_slot_ids=[from_slot], now=now, actor=actor
            )
    return locked


def _transition(
    registration: Registration,
    *,
    actor: str,
    action: str,
    allowed: tuple[str, ...],
    expected_version: int | None = None,
    check: Callable[[Registration, datetime], None] | None = None,
    stamp: str | None = None,
    refusal: str = "",
    **changes: Any,
) -> Registration:
    """One status step: `allowed` are the statuses it starts from, `check` a further rule on the
    locked row, `stamp` the field that records when it happened."""
    now = timezone.now()
    with locked_atomic():
        locked = lock_registration(registration.pk, expected_version=expected_version)
        if locked.status not in allowed:
            raise StatusConflict(
                refusal.format(entrant=locked.entrant_name)
                or f"A registration that is {locked.get_status_display().lower()} cannot be "
                f"{action.replace('_', ' ')}."
            )
        if check is not None:
            check(locked, now)
        before = locked.status
        if stamp:
            changes[stamp] = now
        save_registration(locked, now=now, **changes)
        audit_event_record(
            actor=actor,
            action=f"registration.{action}",
            target=locked,
            status_before=before,
            status_after=locked.status,
        )
    return locked


def registration_confirm(
    *, registration: Registration, actor: str, allow_expired: bool = False
) -> Registration:
    """Turn a held (reserved) registration into a confirmed one.

    A hold past its expiry is refused (its place is due back) unless `allow_expired`: an
    organizer may still confirm it while `expire_holds` has not released it. A hold that is a
    waitlist offer is claimed (`waitlist_offer_claim`: its people checked again for clashes).
    """
    if WaitlistEntry.objects.filter(registration_id=registration.pk).exists():
        return waitlist_offer_claim(
            registration=registration, actor=actor, allow_expired=allow_expired
        )
    confirmed = _transition(
        registration,
        actor=actor,
        action="confirmed",
        allowed=(Status.RESERVED,),
        check=None if allow_expired else check_hold_open,
        stamp="confirmed_at",
        status=Status.CONFIRMED,
        hold_expires_at=None,
    )
    notify(confirmed, "confirmed")
    return confirmed


def registration_check_in(
    *, registration: Registration, actor: str, expected_version: int | None = None
) -> Registration:
    """Record arrival; a late arrival also turns a no-show into a check-in."""
    return _transition(
        registration,
        actor=actor,
        action="checked_in",
        allowed=(Status.RESERVED, Status.CONFIRMED, Status.NO_SHOW),
        expected_version=expected_version,
        stamp="checked_in_at",
        status=Status.CHECKED_IN,
        hold_expires_at=None,
    )


def registration_mark_no_show(
    *, registration: Registration, actor: str, expected_version: int | None = None
) -> Registration:
    """Record that the entrant did not come; the place stays taken (the slot has passed)."""
    return _transition(
        registration,
        actor=actor,
        action="marked_no_show",
        allowed=(Status.RESERVED, Status.CONFIRMED),
        expected_version=expected_version,
        status=Status.NO_SHOW,
        hold_expires_at=None,
    )


def registration_undo_check_in(
    *, registration: Registration, actor: str, expected_version: int | None = None
) -> Registration:
    """Take back a check-in or a no-show tapped by mistake at the door: the entry is confirmed
    again (it holds its place throughout, so no counter changes) and its arrival time is
    cleared. A held place that was checked in comes back confirmed: the entrant came."""
    return _transition(
        registration,
        actor=actor,
        action="check_in_undone",
        allowed=(Status.CHECKED_IN, Status.NO_SHOW),
        expected_version=expected_version,
        refusal="{entrant} is not checked in or marked as no-show: there is nothing to undo.",
        status=Status.CONFIRMED,
        checked_in_at=None,
    )


def registration_expire_holds(
    *, actor: str = "system:expire_holds", now: datetime | None = None
) -> int:
    """Release every hold past its expiry; returns how many this call released.

    Each hold is released in its own short transaction and re-checked under lock, so
    concurrent runs never release the same hold twice.
    """
    now = now or timezone.now()
    expired = list(
        Registration.objects.filter(status=Status.RESERVED, hold_expires_at__lte=now)
        .order_by("hold_expires_at")
        .values_list("pk", "slot_id")
    )
    released = 0
    for registration_id, slot_id in expired:
        try:
            released += _release_expired_hold(registration_id, slot_id, actor=actor, now=now)
        except (RegistrationError, Busy) as exc:  # the next run tries again
            logger.warning("Hold %s not released: %s", registration_id, exc.message)
    return released


def _release_expired_hold(
    registration_id: UUID, slot_id: UUID | None, *, actor: str, now: datetime
) -> int:
    with locked_atomic():
        if slot_id:
            Slot.objects.select_for_update().filter(pk=slot_id).values_list("pk").get()
        locked = (
            Registration.objects.select_for_update(of=("self",))
            .select_related("tournament")  # whether it has webhooks, in the same query
            .get(pk=registration_id)
        )
        if (
            locked.status != Status.RESERVED
            or locked.slot_id != slot_id
            or not locked.hold_expires_at
            or locked.hold_expires_at > now
        ):
            return 0  # confirmed, moved or released by someone else meanwhile
        if slot_id:
            release_places(slot_id, locked.seats, locked.override_seats, now=now)
        save_cancelled(locked, now=now, reason="Hold expired before it was confirmed.")
        audit_event_record(actor=actor, action="registration.hold_expired", target=locked)
        waitlist_place_released(
            locked, slot_id=slot_id, offer_outcome=WaitlistStatus.EXPIRED, now=now, actor=actor
        )
    return 1


def registration_update_contact(
    *, registration: Registration, actor: str, **contact: str | None
) -> Registration:
    """Correct the contact details of a registration (name, e-mail, phone); audited.

    Raises `InvalidEntry` for any other field.
    """
    allowed = {"contact_name", "contact_email", "contact_phone"}
    if set(contact) - allowed:
        raise InvalidEntry("Only the contact details can be changed here.")
    now = timezone.now()
    with locked_atomic():
        locked = lock_registration(registration.pk)
        changed = {k: (v or "").strip() for k, v in contact.items() if getattr(locked, k) != v}
        if changed:
            save_registration(locked, now=now, **changed)
            audit_event_record(
                actor=actor,
                action="registration.update_contact",
                target=locked,
                changed=sorted(changed),
            )
    return locked
