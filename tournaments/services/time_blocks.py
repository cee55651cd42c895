"""Time blocks and their slots: creating, generating, editing, blocking.

Nothing here reads or writes an entry: a forced regeneration, which cancels entries, is
`registrations.services.time_block_regenerate`, which calls these.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from common.audit import audit_changes, audit_event_record
from common.errors import numbers_checked
from common.locking import locked_atomic
from common.text import noun, plural
from common.times import local_span
from tournaments.errors import (
    ManualTimeBlock,
    ScheduleError,
    SlotOutsideBlock,
    SlotsHoldRegistrations,
    StaleSchedule,
)
from tournaments.models import Location, Slot, TimeBlock, Tournament, TournamentLocation


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
    numbers_checked(TimeBlock, error=ScheduleError, **fields)
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
                f"{plural(len(layout.in_the_way), 'slot')} of this time block "
                f"{noun(len(layout.in_the_way), 'holds', 'hold')} registrations that the new "
                "layout has no room for. Move or cancel them first, or force the change."
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
        locked = (
            Slot.objects.select_for_update(of=("self",)).select_related("location").get(pk=slot.pk)
        )
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
            at=locked.audit_facts(),
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


def time_block_update(*, time_block: TimeBlock, actor: str, **fields: Any) -> TimeBlock:
    """Save edits to a time block. A new room applies to its slots at once (their bookings
    move with them); new times, length or capacity apply when slots are generated again.

    The tournament of a block never changes (its slots and bookings belong to it).
    """
    numbers_checked(TimeBlock, error=ScheduleError, **fields)
    if "tournament" in fields and fields.pop("tournament").pk != time_block.tournament_id:
        raise ScheduleError("A time block cannot move to another tournament.")
    with locked_atomic():
        current = TimeBlock.objects.select_for_update().get(pk=time_block.pk)
        changed = {k: v for k, v in fields.items() if getattr(current, k) != v}
        changes = audit_changes(current, changed)
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
                **changes,
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
    numbers_checked(Slot, error=ScheduleError, capacity=capacity)
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
