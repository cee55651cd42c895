"""Writes to the schedule: tournaments, time blocks and slots.

Same rules as the reservation engine (`registrations/services/`): one short transaction
each, locks before checks, conditional updates with a version check, an audit event per
change. Nothing here reads or writes an entry: whatever cancels or counts registrations
(cancelling a slot or a tournament, caps and capacities, a forced regeneration) is a
registrations service (`registrations/services/schedule.py`) that calls these.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from common.audit import audit_event_record
from common.errors import LineupError
from common.locking import locked_atomic
from common.times import local_span
from tournaments.models import Location, Slot, TimeBlock, Tournament, TournamentLocation
from tournaments.selectors import tournament_public_forget


class ScheduleError(LineupError):
    """A schedule change was refused; `message` is fit to show to an organizer."""

    message = "This schedule change could not be made."


class SlotsHoldRegistrations(ScheduleError):
    message = "Some slots of this time block already hold registrations."


class CapacityBelowRegistrations(ScheduleError):
    message = "The capacity cannot go below the places already taken."


class ManualTimeBlock(ScheduleError):
    message = "This time block's slots are made by hand, not generated."


class StaleSchedule(ScheduleError):
    message = "Someone else changed this at the same moment. Reload and try again."


@dataclass(frozen=True)
class SlotGeneration:
    created: int = 0
    removed: int = 0
    kept: int = 0
    resized: int = 0
    registrations_cancelled: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.removed or self.resized)


def time_block_create(
    *, actor: str, tournament: Tournament, location: Location, **fields: Any
) -> TimeBlock:
    """Create a time block, linking its room to the tournament if it is not yet."""
    with transaction.atomic():
        TournamentLocation.objects.get_or_create(tournament=tournament, location=location)
        block = TimeBlock.objects.create(tournament=tournament, location=location, **fields)
        audit_event_record(
            actor=actor,
            action="time_block.create",
            target=block,
            location=str(location),
            starts_at=block.starts_at,
            ends_at=block.ends_at,
        )
    return block


@dataclass(frozen=True)
class Clearance:
    """What a forced regeneration cancelled, in the same transaction, just before generating:
    those slots count as removed and the one audit event tells the whole change."""

    slots: int
    registrations: int


@dataclass(frozen=True)
class SlotLayout:
    """How a generated block's live slots compare with the slots its times call for."""

    wanted: list[tuple[datetime, datetime]]
    by_times: dict[tuple[datetime, datetime], Slot]
    surplus: list[Slot]
    kept: list[Slot]
    too_small: list[Slot]

    @property
    def in_the_way(self) -> list[Slot]:
        """Slots that must go (surplus, or kept but now too small) and still hold places."""
        return [s for s in self.surplus if s.reserved_count] + self.too_small


def time_block_layout(*, time_block: TimeBlock, live_slots: Iterable[Slot]) -> SlotLayout:
    """Compare a block's live (not cancelled) slots with its planned times and capacity."""
    live = list(live_slots)
    wanted = time_block.planned_slot_times()
    by_times = {(s.starts_at, s.ends_at): s for s in live}
    wanted_times = set(wanted)
    kept = [by_times[t] for t in wanted if t in by_times]
    return SlotLayout(
        wanted=wanted,
        by_times=by_times,
        surplus=[s for s in live if (s.starts_at, s.ends_at) not in wanted_times],
        kept=kept,
        too_small=[s for s in kept if s.reserved_count > time_block.slot_capacity],
    )


def time_block_lock_for_generation(*, time_block: TimeBlock) -> tuple[TimeBlock, list[Slot]]:
    """Lock a block, then its live slots in primary-key order (inside a transaction): the
    order generation and its forced variant both take."""
    block = TimeBlock.objects.select_for_update().get(pk=time_block.pk)
    live = list(
        Slot.objects.select_for_update()
        .filter(time_block=block)
        .exclude(status=Slot.Status.CANCELLED)
        .order_by("pk")
    )
    return block, live


def time_block_generate_slots(
    *, time_block: TimeBlock, actor: str, forced: Clearance | None = None
) -> SlotGeneration:
    """Make the block's slots match its times, length and capacity. Safe to run again.

    Slots that already match are kept (their capacity follows the block's); missing ones are
    created; surplus ones are deleted, or kept cancelled if registrations ever pointed at them
    (those registrations keep their slot). A surplus or shrinking slot that still holds places
    is refused with `SlotsHoldRegistrations`: the organizer's forced variant,
    `registrations.services.time_block_regenerate`, cancels those first and passes what it
    cancelled as `forced`. That variant also settles the override places of resized slots, so
    the faces call it rather than this.
    """
    now = timezone.now()
    with locked_atomic():
        block, existing = time_block_lock_for_generation(time_block=time_block)
        if block.is_manual:
            raise ManualTimeBlock()
        layout = time_block_layout(time_block=block, live_slots=existing)
        wanted, by_times, surplus = layout.wanted, layout.by_times, layout.surplus
        if layout.in_the_way:
            raise SlotsHoldRegistrations(
                f"{len(layout.in_the_way)} slot(s) of this time block hold registrations that "
                "the new layout has no room for. Move or cancel them first, or force the change."
            )
        # Surplus slots without any history go; the rest stay, cancelled, for the record.
        with_history = set(
            Slot.objects.filter(pk__in=[s.pk for s in surplus], registrations__isnull=False)
            .values_list("pk", flat=True)
            .distinct()
        )
        Slot.objects.filter(pk__in=[s.pk for s in surplus if s.pk not in with_history]).delete()
        Slot.objects.filter(pk__in=with_history).update(
            status=Slot.Status.CANCELLED, version=F("version") + 1, updated_at=now
        )

        resized = 0
        for slot in layout.kept:
            if slot.capacity != block.slot_capacity:
                resized += Slot.objects.filter(pk=slot.pk, version=slot.version).update(
                    capacity=block.slot_capacity, version=F("version") + 1, updated_at=now
                )
        for number, (starts_at, ends_at) in enumerate(wanted, start=1):
            same_times = by_times.get((starts_at, ends_at))
            if same_times is not None and same_times.number != number:
                Slot.objects.filter(pk=same_times.pk).update(number=number)
        new = [
            Slot(
                time_block=block,
                tournament_id=block.tournament_id,
                location_id=block.location_id,
                starts_at=starts_at,
                ends_at=ends_at,
                number=number,
                capacity=block.slot_capacity,
            )
            for number, (starts_at, ends_at) in enumerate(wanted, start=1)
            if (starts_at, ends_at) not in by_times
        ]
        Slot.objects.bulk_create(new)
        cancelled = forced.registrations if forced else 0
        result = SlotGeneration(
            created=len(new),
            removed=len(surplus) + (forced.slots if forced else 0),
            kept=len(layout.kept),
            resized=resized,
            registrations_cancelled=cancelled,
        )
        if result.changed:
            audit_event_record(
                actor=actor,
                action="time_block.generate_slots",
                target=block,
                created=result.created,
                removed=result.removed,
                resized=result.resized,
                registrations_cancelled=cancelled,
                forced=forced is not None,
            )
    return result


def _slot_set_status(
    *, slot: Slot, actor: str, status: str, allowed_from: tuple[str, ...]
) -> tuple[Slot, bool]:
    with locked_atomic():
        locked = Slot.objects.select_for_update().get(pk=slot.pk)
        if locked.status == status:
            return locked, False
        if locked.status not in allowed_from:
            raise ScheduleError(f"A {locked.get_status_display().lower()} slot cannot be changed.")
        updated = Slot.objects.filter(pk=locked.pk, version=locked.version).update(
            status=status, version=F("version") + 1, updated_at=timezone.now()
        )
        if updated != 1:
            raise StaleSchedule()
        audit_event_record(
            actor=actor,
            action=f"slot.{'block' if status == Slot.Status.BLOCKED else 'unblock'}",
            target=locked,
            status_before=locked.status,
            status_after=status,
        )
        locked.status = status
        locked.version += 1
    return locked, True


def slot_block(*, slot: Slot, actor: str) -> bool:
    """Stop new sign-ups in a slot; registrations already in it stay. True if it changed."""
    return _slot_set_status(
        slot=slot, actor=actor, status=Slot.Status.BLOCKED, allowed_from=(Slot.Status.OPEN,)
    )[1]


def slot_unblock(*, slot: Slot, actor: str) -> bool:
    """Open a blocked slot again. True if it changed."""
    return _slot_set_status(
        slot=slot, actor=actor, status=Slot.Status.OPEN, allowed_from=(Slot.Status.BLOCKED,)
    )[1]


# --- organizer back office (the admin) -------------------------------------------------------
# Status changes, duplication and hand-made slots. Same rules as above: one transaction, locks
# in the engine's order (slot → registration → tournament), an audit event for every change.


class TournamentStatusConflict(ScheduleError):
    message = "This tournament cannot change to that status from its current one."


class SlotOutsideBlock(ScheduleError):
    message = "A slot must lie within its time block."


def _tournament_set_status(
    *,
    tournament: Tournament,
    actor: str,
    status: str,
    allowed_from: tuple[str, ...],
    **payload: Any,
) -> bool:
    """Lock the tournament, check its current status, change it. True if it changed."""
    with locked_atomic():
        locked = Tournament.objects.select_for_update().get(pk=tournament.pk)
        if locked.status == status:
            return False
        if locked.status not in allowed_from:
            raise TournamentStatusConflict(
                f"{locked.name} is {locked.get_status_display().lower()}; it cannot be "
                f"{Tournament.Status(status).label.lower()} from there."
            )
        updated = Tournament.objects.filter(pk=locked.pk, version=locked.version).update(
            status=status, version=F("version") + 1, updated_at=timezone.now()
        )
        if updated != 1:
            raise StaleSchedule()
        tournament_public_forget(slugs=[locked.slug])
        audit_event_record(
            actor=actor,
            action=f"tournament.{Tournament.Status(status).value}",
            target=locked,
            tournament=locked,
            status_before=locked.status,
            status_after=status,
            **payload,
        )
    tournament.status = status
    return True


def tournament_publish(*, tournament: Tournament, actor: str) -> bool:
    """Open a draft (or re-open a closed) tournament to the public. True if it changed.

    Raises `TournamentStatusConflict` for a cancelled or completed tournament.
    """
    return _tournament_set_status(
        tournament=tournament,
        actor=actor,
        status=Tournament.Status.PUBLISHED,
        allowed_from=(Tournament.Status.DRAFT, Tournament.Status.CLOSED),
    )


def tournament_close(*, tournament: Tournament, actor: str) -> bool:
    """Stop public sign-ups; registrations already made stay. True if it changed.

    Raises `TournamentStatusConflict` unless the tournament is published.
    """
    return _tournament_set_status(
        tournament=tournament,
        actor=actor,
        status=Tournament.Status.CLOSED,
        allowed_from=(Tournament.Status.PUBLISHED,),
    )


def tournament_mark_cancelled(
    *,
    tournament: Tournament,
    actor: str,
    reason: str,
    slots_cancelled: int,
    registrations_cancelled: int,
) -> bool:
    """The tournament's own side of a cancellation: its status, its cached page, its audit
    event. `registrations.services.tournament_cancel` cancels its slots and entries first, in
    the same transaction, and passes the counts for the record. True if it changed.

    Raises `TournamentStatusConflict` if it is already cancelled or completed.
    """
    return _tournament_set_status(
        tournament=tournament,
        actor=actor,
        status=Tournament.Status.CANCELLED,
        allowed_from=(
            Tournament.Status.DRAFT,
            Tournament.Status.PUBLISHED,
            Tournament.Status.CLOSED,
        ),
        reason=reason,
        slots_cancelled=slots_cancelled,
        registrations_cancelled=registrations_cancelled,
    )


def _free_slug(base: str) -> str:
    base = base[:180]
    taken = set(Tournament.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def tournament_duplicate(*, tournament: Tournament, actor: str) -> Tournament:
    """Copy a tournament's settings, rooms and time blocks into a new draft (no registrations).

    Generated time blocks get fresh slots; hand-made blocks get copies of their open and
    blocked slots, empty and at the block's slot capacity.
    """
    copied_fields = [
        f.name
        for f in Tournament._meta.concrete_fields
        if f.editable and f.name not in {"id", "name", "slug", "status", "created_at"}
    ]
    with transaction.atomic():
        copy = Tournament.objects.create(
            name=f"{tournament.name} (copy)"[:200],
            slug=_free_slug(f"{tournament.slug}-copy"),
            status=Tournament.Status.DRAFT,
            **{name: getattr(tournament, name) for name in copied_fields},
        )
        TournamentLocation.objects.bulk_create(
            TournamentLocation(tournament=copy, location_id=location_id)
            for location_id in TournamentLocation.objects.filter(tournament=tournament).values_list(
                "location_id", flat=True
            )
        )
        slots = []
        for block in TimeBlock.objects.filter(tournament=tournament).order_by("starts_at"):
            new_block = TimeBlock.objects.create(
                tournament=copy,
                location_id=block.location_id,
                starts_at=block.starts_at,
                ends_at=block.ends_at,
                slot_minutes=block.slot_minutes,
                slot_capacity=block.slot_capacity,
                is_manual=block.is_manual,
                notes=block.notes,
            )
            if block.is_manual:
                times = block.slots.exclude(status=Slot.Status.CANCELLED).values_list(
                    "starts_at", "ends_at"
                )
            else:
                times = block.planned_slot_times()
            slots += [
                Slot(
                    time_block=new_block,
                    tournament=copy,
                    location_id=block.location_id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    number=number,
                    capacity=block.slot_capacity,
                )
                for number, (starts_at, ends_at) in enumerate(times, start=1)
            ]
        Slot.objects.bulk_create(slots)
        audit_event_record(
            actor=actor,
            action="tournament.duplicate",
            target=copy,
            tournament=copy,
            copied_from=str(tournament.pk),
            copied_from_name=tournament.name,
            slots=len(slots),
        )
    return copy


def time_block_update(*, time_block: TimeBlock, actor: str, **fields: Any) -> TimeBlock:
    """Save edits to a time block. A new room applies to its slots at once (their bookings
    move with them); new times, length or capacity apply when slots are generated again.

    The tournament of a block never changes (its slots and bookings belong to it).
    """
    if "tournament" in fields and fields.pop("tournament").pk != time_block.tournament_id:
        raise ScheduleError("A time block cannot move to another tournament.")
    with locked_atomic():
        current = TimeBlock.objects.select_for_update().get(pk=time_block.pk)
        changed = {k: v for k, v in fields.items() if getattr(current, k) != v}
        if "location" in changed:
            TournamentLocation.objects.get_or_create(
                tournament_id=current.tournament_id, location=changed["location"]
            )
            _lock_slots_of(current)
            Slot.objects.filter(time_block=current).update(
                location=changed["location"], version=F("version") + 1, updated_at=timezone.now()
            )
        for name, value in changed.items():
            setattr(current, name, value)
        if changed:
            current.save()
            audit_event_record(
                actor=actor,
                action="time_block.update",
                target=current,
                changed=sorted(changed),
            )
    return current


def _lock_slots_of(block: TimeBlock) -> None:
    """Lock a block's slots in primary-key order, the order every other writer uses."""
    list(
        Slot.objects.select_for_update()
        .filter(time_block=block)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def slot_create(
    *, time_block: TimeBlock, starts_at: datetime, ends_at: datetime, capacity: int, actor: str
) -> Slot:
    """Add a hand-made slot to a manual time block.

    Raises `ManualTimeBlock` if the block's slots are generated, `SlotOutsideBlock` if the
    times fall outside the block, `ScheduleError` if it overlaps another slot of the block.
    """
    if capacity < 1:
        raise ScheduleError("A slot holds at least one place.")
    with locked_atomic():
        block = TimeBlock.objects.select_for_update().get(pk=time_block.pk)
        if not block.is_manual:
            raise ManualTimeBlock(
                "This time block's slots are generated from its length: use Generate slots."
            )
        if not (block.starts_at <= starts_at < ends_at <= block.ends_at):
            raise SlotOutsideBlock(
                "The slot must start and end within its time block "
                f"({local_span(block.starts_at, block.ends_at)})."
            )
        siblings = block.slots.exclude(status=Slot.Status.CANCELLED)
        if siblings.filter(starts_at__lt=ends_at, ends_at__gt=starts_at).exists():
            raise ScheduleError("This slot overlaps another slot of the same time block.")
        slot = Slot.objects.create(
            time_block=block,
            tournament_id=block.tournament_id,
            location_id=block.location_id,
            starts_at=starts_at,
            ends_at=ends_at,
            number=siblings.count() + 1,
            capacity=capacity,
        )
        audit_event_record(
            actor=actor,
            action="slot.create",
            target=slot,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
        )
    return slot


def tournament_create(
    *, actor: str, status: str = Tournament.Status.DRAFT, **fields: Any
) -> Tournament:
    """Create a tournament, as a draft unless a `status` is given (the schedule import sets
    the one its file names: a new tournament has no entrants for a status change to touch).
    Later status changes go through `tournament_publish` and friends."""
    with transaction.atomic():
        tournament = Tournament.objects.create(status=status, **fields)
        tournament_public_forget(slugs=[tournament.slug])  # a deleted namesake's, if any
        audit_event_record(
            actor=actor,
            action="tournament.create",
            target=tournament,
            tournament=tournament,
            name=tournament.name,
        )
    return tournament


def time_block_delete(*, time_block: TimeBlock, actor: str) -> None:
    """Delete a time block and its slots. Refused with `SlotsHoldRegistrations` if any of its
    slots was ever booked: cancel those slots instead, which keeps the record."""
    with locked_atomic():
        block = TimeBlock.objects.select_for_update().get(pk=time_block.pk)
        _lock_slots_of(block)  # a sign-up in flight finishes first, or waits and fails
        if block.slots.filter(registrations__isnull=False).exists():
            raise SlotsHoldRegistrations(
                "Slots of this time block have registrations (or had them): it cannot be "
                "deleted. Cancel its slots instead."
            )
        audit_event_record(
            actor=actor,
            action="time_block.delete",
            target=block,
            location=str(block.location),
            starts_at=block.starts_at,
            ends_at=block.ends_at,
        )
        block.delete()


# --- rooms -----------------------------------------------------------------------------------
# The one write path for rooms and for the rooms a tournament uses: the admin and the schedule
# import both come here. Rooms have no version; the row lock orders concurrent edits.


def location_create(
    *, actor: str, name: str, building: str = "", capacity: int | None = None, notes: str = ""
) -> Location:
    """Add a room. Its name is unique within its building (a database rule)."""
    with transaction.atomic():
        location = Location.objects.create(
            name=name, building=building, capacity=capacity, notes=notes
        )
        audit_event_record(
            actor=actor, action="location.create", target=location, name=str(location)
        )
    return location


def location_update(*, location: Location, actor: str, **fields: Any) -> Location:
    """Save edits to a room (name, building, capacity, notes); returns it as saved.

    Its time blocks and slots point at it, so a new name shows everywhere at once.
    """
    with locked_atomic():
        current = Location.objects.select_for_update().get(pk=location.pk)
        changed = {k: v for k, v in fields.items() if getattr(current, k) != v}
        if changed:
            Location.objects.filter(pk=current.pk).update(**changed, updated_at=timezone.now())
            audit_event_record(
                actor=actor,
                action="location.update",
                target=current,
                name=str(current),
                changed=sorted(changed),
            )
            current.refresh_from_db()
    return current


def tournament_location_add(*, tournament: Tournament, location: Location, actor: str) -> bool:
    """List a room among a tournament's rooms. True if it was not listed yet."""
    with transaction.atomic():
        _, created = TournamentLocation.objects.get_or_create(
            tournament=tournament, location=location
        )
        if created:
            audit_event_record(
                actor=actor,
                action="tournament.add_room",
                target=tournament,
                tournament=tournament,
                location=str(location),
            )
    return created


def tournament_location_remove(*, tournament: Tournament, location: Location, actor: str) -> bool:
    """Take a room off a tournament's list (its time blocks there stay). True if it was on it."""
    with transaction.atomic():
        removed, _ = TournamentLocation.objects.filter(
            tournament=tournament, location=location
        ).delete()
        if removed:
            audit_event_record(
                actor=actor,
                action="tournament.remove_room",
                target=tournament,
                tournament=tournament,
                location=str(location),
            )
    return bool(removed)
