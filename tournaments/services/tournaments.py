"""Tournaments and their rooms: creating, publishing, closing, duplicating.

A tournament's edit, cap and cancellation count or cancel entries, so they are
registrations services (`registrations/services/schedule.py`) that call these.
"""

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from common.audit import audit_changes, audit_event_record
from common.errors import numbers_checked
from common.locking import locked_atomic
from common.times import time_zone_checked
from tournaments.errors import ScheduleError, StaleSchedule, TournamentStatusConflict
from tournaments.models import Location, Slot, TimeBlock, Tournament, TournamentLocation
from tournaments.scoring import scoring_rules_clean
from tournaments.selectors import tournament_public_forget


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


def tournament_create(
    *, actor: str, status: str = Tournament.Status.DRAFT, **fields: Any
) -> Tournament:
    """Create a tournament, as a draft unless a `status` is given (the schedule import sets
    the one its file names: a new tournament has no entrants for a status change to touch).
    Later status changes go through `tournament_publish` and friends."""
    if "rules" in fields:
        fields["rules"] = scoring_rules_clean(fields["rules"])
    numbers_checked(Tournament, error=ScheduleError, **fields)
    if "time_zone" in fields:
        time_zone_checked(fields["time_zone"], error=ScheduleError)
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


def location_create(
    *,
    actor: str,
    name: str,
    building: str = "",
    capacity: int | None = None,
    notes: str = "",
    address: str = "",
) -> Location:
    """Add a room. Its name is unique within its building (a database rule)."""
    with transaction.atomic():
        location = Location.objects.create(
            name=name, building=building, capacity=capacity, notes=notes, address=address
        )
        audit_event_record(
            actor=actor, action="location.create", target=location, name=str(location)
        )
    return location


def location_update(*, location: Location, actor: str, **fields: Any) -> Location:
    """Save edits to a room (name, building, address, capacity, notes); returns it as saved.

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
                **audit_changes(current, changed),
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
