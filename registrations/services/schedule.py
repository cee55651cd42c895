"""Schedule changes that cancel or count entries: cancelling a slot or a tournament, deleting
one, caps and capacities that never go below the places taken, and the organizer's forced
regeneration of a time block.

The schedule itself changes through `tournaments.services` (called from here, in the same
transaction); what these add is the entries' side. Same rules as the engine: one short
`locked_atomic()` transaction each, locks in its order (slot → registration → tournament),
conditional updates with a version check, an audit event per change. Refusals are the
schedule's (`tournaments.errors`).
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from common.audit import audit_changes, audit_event_record
from common.errors import numbers_checked
from common.locking import locked_atomic
from common.text import plural
from common.times import time_zone_checked
from registrations.errors import ConcurrentChange
from registrations.models import Registration
from registrations.rows import lock_slot, notify, save_cancelled
from registrations.selectors import tournament_places_taken
from registrations.services.changing import registration_cancel
from registrations.services.waitlist import waitlist_close_for_slot, waitlist_close_for_tournament
from registrations.services.waitlist_offers import offer_free_places
from tournaments.errors import (
    CapacityBelowRegistrations,
    ScheduleError,
    StaleSchedule,
    TournamentStatusConflict,
)
from tournaments.models import Slot, TimeBlock, Tournament
from tournaments.scoring import scoring_rules_clean
from tournaments.selectors import tournament_public_forget
from tournaments.services import (
    Clearance,
    SlotGeneration,
    time_block_generate_slots,
    time_block_layout,
    time_block_lock_for_generation,
    tournament_mark_cancelled,
)

Status = Registration.Status


def slot_cancel(*, slot: Slot, actor: str, reason: str = "") -> int:
    """Cancel a slot and every active registration in it (each entrant with an e-mail address
    is told after commit); returns how many were cancelled."""
    now = timezone.now()
    reason = reason.strip() or gettext_noop("The slot was cancelled by the organizers.")
    with locked_atomic():
        locked_slot = lock_slot(slot.pk)
        if locked_slot.status == Slot.Status.CANCELLED:
            return 0
        registrations = list(
            Registration.objects.select_for_update(of=("self",))
            .select_related("tournament")  # whether it has webhooks, in the same query
            .active()
            .filter(slot_id=slot.pk)
            .order_by("pk")
        )
        given_back = sum(r.override_seats for r in registrations)
        waitlist_close_for_slot(slot_id=slot.pk, now=now, actor=actor)
        at = locked_slot.audit_facts()
        for registration in registrations:
            status_before = registration.status
            save_cancelled(registration, now=now, reason=reason)
            audit_event_record(
                actor=actor,
                action="registration.cancel",
                target=registration,
                entrant=registration.entrant_name,
                slot=str(locked_slot.pk),
                at=at,
                seats=registration.seats,
                reason=reason,
                status_before=status_before,
                status_after=registration.status,
            )
            notify(registration, "cancelled")
        updated = Slot.objects.filter(pk=slot.pk, version=locked_slot.version).update(
            status=Slot.Status.CANCELLED,
            reserved_count=0,
            capacity=F("capacity") - given_back,
            version=F("version") + 1,
            updated_at=now,
        )
        if updated != 1:
            raise ConcurrentChange("The slot changed at the same moment. Reload and try again.")
        audit_event_record(
            actor=actor,
            action="slot.cancel",
            target=locked_slot,
            at=at,
            reason=reason,
            registrations_cancelled=len(registrations),
            status_before=locked_slot.status,
            status_after=Slot.Status.CANCELLED,
            places_taken_before=locked_slot.reserved_count,
            places_taken_after=0,
            capacity_before=locked_slot.capacity,
            capacity_after=locked_slot.capacity - given_back,
        )
    return len(registrations)


def time_block_regenerate(
    *, time_block: TimeBlock, actor: str, force: bool = False
) -> SlotGeneration:
    """Generate a block's slots (`tournaments.services.time_block_generate_slots`) and settle
    the entries' side, in one transaction that locks the block, then its slots.

    A surplus or shrinking slot that still holds places is refused with
    `SlotsHoldRegistrations` unless `force`, which first cancels those slots and their
    registrations (`slot_cancel`: audited, entrants told). A slot whose capacity generation
    changes now has the planned capacity: overrides in it give nothing back any more.
    """
    with locked_atomic():
        block, live = time_block_lock_for_generation(time_block=time_block)
        clearance = None
        if force and not block.is_manual:
            in_the_way = time_block_layout(time_block=block, live_slots=live).in_the_way
            reason = gettext_noop("The schedule changed and this slot was removed.")
            cancelled = sum(slot_cancel(slot=s, actor=actor, reason=reason) for s in in_the_way)
            clearance = Clearance(slots=len(in_the_way), registrations=cancelled)
        result = time_block_generate_slots(time_block=block, actor=actor, forced=clearance)
        if result.resized:
            before = {s.pk: s.capacity for s in live}
            resized = [
                pk
                for pk, capacity in Slot.objects.filter(pk__in=before)
                .exclude(status=Slot.Status.CANCELLED)
                .values_list("pk", "capacity")
                if capacity != before[pk]
            ]
            _capacity_now_planned(resized, now=timezone.now())
            # Bigger slots (held by this transaction) take their waitlists first.
            offer_free_places(
                tournament_id=block.tournament_id,
                held_slot_ids=resized,
                now=timezone.now(),
                actor=actor,
            )
    return result


def slot_set_capacity(*, slot: Slot, capacity: int, actor: str) -> Slot:
    """Change a slot's capacity; never below the places already taken
    (`CapacityBelowRegistrations`). The new capacity includes any places overrides added."""
    if capacity < 1:
        raise ScheduleError("A slot holds at least one place.")
    numbers_checked(Slot, error=ScheduleError, capacity=capacity)
    with locked_atomic():
        locked = lock_slot(slot.pk)
        if capacity < locked.reserved_count:
            raise CapacityBelowRegistrations(
                f"{plural(locked.reserved_count, 'place is', 'places are')} already taken in "
                f"this slot; the capacity cannot go down to {capacity}."
            )
        if capacity == locked.capacity:
            return locked
        now = timezone.now()
        updated = Slot.objects.filter(pk=locked.pk, version=locked.version).update(
            capacity=capacity, version=F("version") + 1, updated_at=now
        )
        if updated != 1:
            raise StaleSchedule()
        _capacity_now_planned([locked.pk], now=now)
        audit_event_record(
            actor=actor,
            action="slot.set_capacity",
            target=locked,
            at=locked.audit_facts(),
            capacity_before=locked.capacity,
            capacity_after=capacity,
        )
        if capacity > locked.capacity:  # the new places go to the waitlist first
            offer_free_places(
                tournament_id=locked.tournament_id, held_slot_ids=[locked.pk], now=now, actor=actor
            )
    locked.refresh_from_db()
    return locked


def _capacity_now_planned(slot_ids: list[UUID], *, now: datetime) -> None:
    """An organizer set the capacity of slots they hold locked: it now includes any places
    overrides added, so the entries that came in by override no longer give any back (which
    could take the capacity below what is taken, or to nothing)."""
    Registration.objects.filter(slot_id__in=slot_ids, override_seats__gt=0).update(
        override_seats=0, version=F("version") + 1, updated_at=now
    )


def tournament_set_max_participants(
    *, tournament: Tournament, max_participants: int | None, actor: str
) -> Tournament:
    """Change the participant cap; never below the places already taken."""
    numbers_checked(Tournament, error=ScheduleError, max_participants=max_participants)
    with locked_atomic():
        locked = Tournament.objects.select_for_update().get(pk=tournament.pk)
        if max_participants is not None:
            taken = tournament_places_taken(tournament_id=locked.pk)
            if max_participants < taken:
                raise CapacityBelowRegistrations(
                    f"{plural(taken, 'participant is', 'participants are')} already signed up; "
                    f"the limit cannot go down to {max_participants}."
                )
        updated = Tournament.objects.filter(pk=locked.pk, version=locked.version).update(
            max_participants=max_participants, version=F("version") + 1, updated_at=timezone.now()
        )
        if updated != 1:
            raise StaleSchedule()
        tournament_public_forget(slugs=[locked.slug])
        audit_event_record(
            actor=actor,
            action="tournament.set_max_participants",
            target=locked,
            tournament=locked,
            before=locked.max_participants,
            after=max_participants,
        )
        if locked.max_participants is not None and (
            max_participants is None or max_participants > locked.max_participants
        ):  # the cap went up: the waitlist takes the new places first
            offer_free_places(
                tournament_id=locked.pk, held_slot_ids=(), now=timezone.now(), actor=actor
            )
    locked.refresh_from_db()
    return locked


def tournament_update(*, tournament: Tournament, actor: str, **fields: Any) -> Tournament:
    """Save an organizer's edits to a tournament's settings. It lives with the entries because
    two of its rules count them: the participant cap goes through
    `tournament_set_max_participants` (never below the places taken), and the entry kind is
    frozen once anyone has entered (`ScheduleError`).

    Status and version are not edited here (see `tournaments.services.tournament_publish` and
    friends).
    """
    fields.pop("status", None)
    numbers_checked(Tournament, error=ScheduleError, **fields)
    if "time_zone" in fields:
        time_zone_checked(fields["time_zone"], error=ScheduleError)
    if "rules" in fields:
        fields["rules"] = scoring_rules_clean(fields["rules"])
    cap_given = "max_participants" in fields
    max_participants = fields.pop("max_participants", None)
    with locked_atomic():
        current = Tournament.objects.select_for_update().get(pk=tournament.pk)
        if (
            fields.get("entry_kind", current.entry_kind) != current.entry_kind
            and current.registrations.exists()
        ):
            raise ScheduleError(
                f"{current.name} already has registrations, so it cannot change between "
                "individual and team entries."
            )
        if cap_given and max_participants != current.max_participants:
            tournament_set_max_participants(
                tournament=current, max_participants=max_participants, actor=actor
            )
        changed = {k: v for k, v in fields.items() if getattr(current, k) != v}
        if changed:
            Tournament.objects.filter(pk=current.pk).update(
                **changed, version=F("version") + 1, updated_at=timezone.now()
            )
            tournament_public_forget(slugs=[current.slug, changed.get("slug")])
            audit_event_record(
                actor=actor,
                action="tournament.update",
                target=current,
                tournament=current,
                **audit_changes(current, changed),
            )
    tournament.refresh_from_db()
    return tournament


def tournament_delete(*, tournament: Tournament, actor: str) -> None:
    """Soft-delete a tournament: it leaves every list and page, its records stay.

    Refused while it holds active registrations (cancel it first, which tells the entrants).
    """
    with locked_atomic():
        locked = Tournament.objects.select_for_update().get(pk=tournament.pk)
        if locked.deleted_at is not None:
            return
        if locked.registrations.active().exists():
            raise ScheduleError(
                f"{locked.name} still has registrations: cancel it first, which frees their "
                "places and tells the entrants."
            )
        updated = Tournament.objects.filter(pk=locked.pk, version=locked.version).update(
            deleted_at=timezone.now(), version=F("version") + 1, updated_at=timezone.now()
        )
        if updated != 1:
            raise StaleSchedule()
        tournament_public_forget(slugs=[locked.slug])
        audit_event_record(
            actor=actor, action="tournament.delete", target=locked, tournament=locked
        )


def tournament_cancel(*, tournament: Tournament, actor: str, reason: str = "") -> int:
    """Cancel a tournament, every slot in it and every active registration; returns how many
    registrations were cancelled (each entrant with an e-mail address is told after commit).

    One transaction that locks in the engine's order: the slots (via `slot_cancel`, which
    also locks their registrations), then the registrations without a slot, then the
    tournament. Raises `TournamentStatusConflict` if it is already cancelled or completed.
    """
    reason = reason.strip() or gettext_noop("The tournament was cancelled by the organizers.")
    if tournament.status in (Tournament.Status.CANCELLED, Tournament.Status.COMPLETED):
        raise TournamentStatusConflict(
            f"{tournament.name} is already {tournament.get_status_display().lower()}."
        )
    cancelled = 0
    with locked_atomic():
        # Nobody waits for a cancelled tournament, and its entries' freed places go nowhere.
        waitlist_close_for_tournament(tournament_id=tournament.pk, now=timezone.now())
        slots = list(
            Slot.objects.select_for_update()
            .filter(tournament=tournament)
            .exclude(status=Slot.Status.CANCELLED)
            .order_by("pk")
        )
        for slot in slots:
            cancelled += slot_cancel(slot=slot, actor=actor, reason=reason)
        without_slot = list(
            Registration.objects.select_for_update()
            .active()
            .filter(tournament=tournament, slot__isnull=True)
            .order_by("pk")
        )
        for registration in without_slot:
            registration_cancel(registration=registration, actor=actor, reason=reason)
        cancelled += len(without_slot)
        tournament_mark_cancelled(
            tournament=tournament,
            actor=actor,
            reason=reason,
            slots_cancelled=len(slots),
            registrations_cancelled=cancelled,
        )
    return cancelled
