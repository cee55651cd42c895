"""Changes to a registration that exists: cancel, move, the status steps (confirm, check in,
no-show), a no-show's place released, expired holds, contact details.

Each locks its slots before the registration (the engine's order), re-reads the registration
under lock through `lock_registration` and writes it through `save_registration`, whose
conditional UPDATE on the version refuses a change that raced it.
"""

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.utils import timezone
from django.utils.translation import gettext_noop

from common.audit import audit_event_record
from common.locking import Busy, locked_atomic
from participants.models import Participant
from registrations.entries import Entry, entry_for, entry_of, lock_people
from registrations.errors import (
    AlreadyRegistered,
    InvalidEntry,
    RegistrationError,
    SlotUnavailable,
    StatusConflict,
)
from registrations.models import Registration, RegistrationMember, WaitlistEntry
from registrations.notifications.messages import slot_facts
from registrations.places import claim_places, claim_tournament_places, release_places
from registrations.rows import (
    audit_override_added,
    audit_override_given_back,
    lock_registration,
    lock_slot,
    lock_slots_then_registration,
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
from registrations.services.waitlist_offers import (
    offer_free_places,
    waitlist_offer_claim,
    waitlist_place_released,
)

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
        slots, locked = lock_slots_then_registration(
            registration.pk, slot_ids=[slot_id], in_slot=slot_id, expected_version=expected_version
        )
        slot = slots.get(slot_id) if slot_id else None
        if locked.status == Status.CANCELLED:
            raise StatusConflict(gettext_noop("This registration is already cancelled."))
        if by_entrant:
            refusal = entrant_cancel_refusal(
                locked, slot_starts_at=slot.starts_at if slot else None, now=now
            )
            if refusal:
                raise refusal
        status_before, override_seats = locked.status, locked.override_seats
        if slot is not None:
            release_places(slot.pk, locked.seats, override_seats, now=now)
        save_cancelled(locked, now=now, reason=reason.strip())
        audit_event_record(
            actor=actor,
            action="registration.cancel",
            target=locked,
            entrant=locked.entrant_name,
            slot=str(slot_id) if slot_id else None,
            at=slot.audit_facts() if slot else None,
            seats=locked.seats,
            reason=reason.strip(),
            status_before=status_before,
            status_after=locked.status,
        )
        if slot is not None and override_seats:
            audit_override_given_back(
                actor=actor, slot=slot, registration=locked, seats=override_seats
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
    reason: str = "",
    expected_version: int | None = None,
    by_entrant: bool = False,
) -> Registration:
    """Move an entry to another slot of the same tournament; `reason` (optional) goes into
    the audit.

    Both slots are locked in one query in primary-key order, so two opposite moves cannot
    deadlock. The target must be open, not started and have room (unless `override_reason`
    is given: then it is an override, audited as one, and the slot's own history records the
    capacity it added), and the move must not create a schedule clash for anyone in the entry.
    `by_entrant` (the private page) also needs the entry held or confirmed, the sign-up
    window open and the current time not started (`entrant_change_refusal`: `StatusConflict`).
    """
    current = Registration.objects.get(pk=registration.pk)
    entry = entry_of(current)
    override_reason = override_reason.strip()
    reason = override_reason or reason.strip()
    now = timezone.now()
    with locked_atomic():
        lock_people(entry)
        to_slot = slot_uuid(to_slot_id)
        # Both slots in one query, by id: two opposite moves cannot deadlock.
        slots, locked = lock_slots_then_registration(
            current.pk,
            slot_ids=[to_slot, current.slot_id],
            in_slot=current.slot_id,
            expected_version=expected_version,
            related=("tournament", "location"),
        )
        if locked.status not in (Status.RESERVED, Status.CONFIRMED):
            raise StatusConflict(
                gettext_noop("A registration that is {status} cannot be moved."),
                status=locked.status_word,
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
                raise refusal
        target = slots.get(to_slot)
        if target is None:
            raise SlotUnavailable(gettext_noop("That slot no longer exists."))
        if target.tournament_id != locked.tournament_id:
            raise SlotUnavailable(gettext_noop("That slot belongs to another tournament."))
        if target.pk == locked.slot_id:
            raise SlotUnavailable(gettext_noop("The registration is already in that slot."))
        override = bool(override_reason)
        check_slot(target, now, override=override)
        check_no_clash(entry, target, exclude_id=locked.pk)
        from_slot, given_back = locked.slot_id, locked.override_seats
        if from_slot:
            release_places(from_slot, locked.seats, given_back, now=now)
        added = claim_places(target, locked.seats, override=override, now=now)
        save_registration(
            locked,
            now=now,
            slot_id=target.pk,
            override_seats=added,
            override_reason=override_reason or locked.override_reason,
        )
        overridden: dict[str, Any] = (
            {
                "capacity_added": added,
                "capacity_before": target.capacity,
                "capacity_after": target.capacity + added,
            }
            if override
            else {}
        )
        audit_event_record(
            actor=actor,
            action="registration.override" if override else "registration.move",
            target=locked,
            entrant=locked.entrant_name,
            seats=locked.seats,
            from_slot=str(from_slot) if from_slot else None,
            to_slot=str(target.pk),
            **{"from": slots[from_slot].audit_facts() if from_slot else None},
            to=target.audit_facts(),
            reason=reason,
            **overridden,
        )
        if from_slot and given_back:
            audit_override_given_back(
                actor=actor, slot=slots[from_slot], registration=locked, seats=given_back
            )
        if added:
            audit_override_added(
                actor=actor, slot=target, registration=locked, seats=added, reason=reason
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
    refusal: str,
    **changes: Any,
) -> Registration:
    """One status step: `allowed` are the statuses it starts from (else `refusal`, which may
    name the `{entrant}` and the `{status}`), `check` a further rule on the locked row, `stamp`
    the field that records when it happened."""
    now = timezone.now()
    with locked_atomic():
        locked = lock_registration(registration.pk, expected_version=expected_version)
        if locked.status not in allowed:
            # Each step's own wording (marked for translation where a public page shows it)
            # may name the entrant and the status.
            raise StatusConflict(refusal, entrant=locked.entrant_name, status=locked.status_word)
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
            entrant=locked.entrant_name,
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
        refusal=gettext_noop("A registration that is {status} cannot be confirmed."),
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
        refusal="A registration that is {status} cannot be checked in.",
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
        refusal="A registration that is {status} cannot be marked as a no-show.",
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


def registration_release_no_show(
    *,
    registration: Registration,
    actor: str,
    reason: str = "",
    expected_version: int | None = None,
) -> Registration:
    """Give a no-show's places back so the waitlist can use them: the entry ends as
    cancelled ("No-show: place released", and `reason` if given), its places are free in the
    same transaction and offered at once to the first eligible waitlist entry, while the slot
    is still locked, so a sign-up arriving at the same moment finds the place already offered.

    Raises `StatusConflict` unless the registration is a no-show (a late arrival checked in
    meanwhile keeps the place); `ConcurrentChange` if it changed under the caller.
    """
    slot_id = Registration.objects.values_list("slot_id", flat=True).get(pk=registration.pk)
    reason = reason.strip()
    now = timezone.now()
    with locked_atomic():
        slots, locked = lock_slots_then_registration(
            registration.pk, slot_ids=[slot_id], in_slot=slot_id, expected_version=expected_version
        )
        slot = slots.get(slot_id) if slot_id else None
        if locked.status != Status.NO_SHOW:
            raise StatusConflict(
                "{entrant} is {status}, not a no-show: the place is not released.",
                entrant=locked.entrant_name,
                status=locked.status_word,
            )
        status_before, override_seats = locked.status, locked.override_seats
        if slot is not None:
            release_places(slot.pk, locked.seats, override_seats, now=now)
        save_cancelled(
            locked,
            now=now,
            reason=f"No-show: place released. {reason}".strip(),
        )
        audit_event_record(
            actor=actor,
            action="registration.no_show_released",
            target=locked,
            entrant=locked.entrant_name,
            slot=str(slot_id) if slot_id else None,
            at=slot.audit_facts() if slot else None,
            seats=locked.seats,
            reason=reason,
            status_before=status_before,
            status_after=locked.status,
        )
        if slot is not None and override_seats:
            audit_override_given_back(
                actor=actor, slot=slot, registration=locked, seats=override_seats
            )
        notify(locked, "cancelled")  # a late arrival learns the place is gone, and why
        waitlist_place_released(
            locked, slot_id=slot_id, offer_outcome=WaitlistStatus.LEFT, now=now, actor=actor
        )
    return locked


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
            lock_slot(slot_id, related=())
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
        status_before = locked.status
        save_cancelled(locked, now=now, reason="Hold expired before it was confirmed.")
        audit_event_record(
            actor=actor,
            action="registration.hold_expired",
            target=locked,
            entrant=locked.entrant_name,
            seats=locked.seats,
            status_before=status_before,
            status_after=locked.status,
        )
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
        raise InvalidEntry(gettext_noop("Only the contact details can be changed here."))
    now = timezone.now()
    with locked_atomic():
        locked = lock_registration(registration.pk)
        wanted = {k: (v or "").strip() for k, v in contact.items()}
        changed = {k: v for k, v in wanted.items() if getattr(locked, k) != v}
        if changed:
            # Old and new values in full: organizers read the log, and need what it said.
            before = {k: getattr(locked, k) for k in sorted(changed)}
            save_registration(locked, now=now, **changed)
            audit_event_record(
                actor=actor,
                action="registration.update_contact",
                target=locked,
                entrant=locked.entrant_name,
                changed=sorted(changed),
                before=before,
                after={k: changed[k] for k in sorted(changed)},
            )
    return locked


def registration_change_members(
    *,
    registration: Registration,
    members: Iterable[Participant | str],
    reason: str,
    actor: str,
    expected_version: int | None = None,
) -> Registration:
    """Change who plays in a team entry after sign-up (a substitute, one more or one fewer),
    through the engine: the entry's places in its slot follow its members, taken or given back
    under the slot's lock, and the tournament's cap holds. The reason is required (audited).

    People who join are checked like a new entry: team members only (unless the tournament
    takes typed names), not already entered in this tournament, not booked at a clashing time.
    Raises `InvalidEntry`, `AlreadyRegistered`, `ScheduleClash`, `SlotFull`, `TournamentFull`
    or `StatusConflict` (a cancelled or finished entry) and changes nothing then.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidEntry("Say why the members change (kept in the audit log).")
    current = Registration.objects.select_related("tournament", "team").get(pk=registration.pk)
    if not current.tournament.is_team_event:
        raise InvalidEntry("Only a team entry has members to change.")
    new = entry_for(
        tournament=current.tournament,
        participant=None,
        team=current.team,
        members=list(members),
        entrant_name=current.entrant_name,
    )
    old = entry_of(current)
    joining = tuple(sorted(set(new.person_ids) - set(old.person_ids)))
    now = timezone.now()
    with locked_atomic():
        lock_people(Entry(name=new.name, seats=new.seats, person_ids=joining))
        slots, locked = lock_slots_then_registration(
            current.pk,
            slot_ids=[current.slot_id],
            in_slot=current.slot_id,
            expected_version=expected_version,
            related=("tournament", "location"),
        )
        slot = slots.get(current.slot_id) if current.slot_id else None
        if locked.status not in (Status.RESERVED, Status.CONFIRMED):
            raise StatusConflict(
                "A registration that is {status} cannot change its members.",
                status=locked.status_word,
            )
        newcomers = Entry(name=new.name, seats=new.seats, person_ids=joining)
        held = newcomers.active_registrations(exclude_id=locked.pk)
        elsewhere = held.filter(tournament_id=locked.tournament_id) if held is not None else None
        if elsewhere is not None and elsewhere.exists():
            raise AlreadyRegistered(
                "Someone joining is already signed up for "
                f"{locked.tournament.name} in another entry."
            )
        if slot is not None:
            check_no_clash(newcomers, slot, exclude_id=locked.pk)
        change = new.seats - locked.seats
        if slot is not None and change > 0:
            claim_places(slot, change, override=False, now=now)
        elif slot is not None and change < 0:
            release_places(slot.pk, -change, 0, now=now)
        if change > 0 and locked.tournament.max_participants is not None:
            claim_tournament_places(locked.tournament, change, override=False)
        old_names = Counter(name for _, name in old.members)
        new_names = Counter(name for _, name in new.members)
        left, joined = (
            sorted((old_names - new_names).elements()),
            sorted((new_names - old_names).elements()),
        )
        seats_before = locked.seats
        if change:
            save_registration(locked, now=now, seats=new.seats)
        else:
            save_registration(locked, now=now)
        locked.members.all().delete()
        RegistrationMember.objects.bulk_create(
            RegistrationMember(registration=locked, participant_id=pid, name=name)
            for pid, name in new.members
        )
        audit_event_record(
            actor=actor,
            action="registration.change_members",
            target=locked,
            entrant=locked.entrant_name,
            at=slot.audit_facts() if slot else None,
            left=left,
            joined=joined,
            seats_before=seats_before,
            seats_after=new.seats,
            places_taken_before=slot.reserved_count if slot else None,
            places_taken_after=slot.reserved_count + change if slot else None,
            reason=reason,
        )
    return locked
