"""Writing a checked plan through the services the admin uses, inside the import's transaction.

Each service is its own (nested, so savepoint) transaction with its locks, version bumps,
audit event and public-cache forgetting; a refusal becomes the item's error and the import's
outer transaction is rolled back. Before a service runs, the object as it would be saved is
checked against the model's rules, so a bad value is reported the way an organizer says it.
"""

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from common.errors import LineupError
from common.times import local_date, local_stamp, tournament_zone, zone
from tournaments.importing.checking import RoomKey, SchedulePlan
from tournaments.importing.fields import LOCATION_FIELDS, TOURNAMENT_FIELDS
from tournaments.importing.reading import Item
from tournaments.importing.result import ScheduleImportResult
from tournaments.models import Location, TimeBlock, Tournament
from tournaments.services import (
    location_create,
    location_update,
    time_block_create,
    time_block_update,
    tournament_create,
)


@dataclass(frozen=True)
class EntryAwareWrites:
    """The schedule writes whose rules count entries: a tournament's edit (its entry kind is
    frozen once anyone entered), its participant cap (never below the places taken) and slot
    generation (which frees override places). They are registrations services, which the
    caller (a face) hands in, as `registrations.importing.SCHEDULE_WRITES`: this package may
    not know that layer."""

    tournament_update: Callable[..., Tournament]
    tournament_set_max_participants: Callable[..., Tournament]
    time_block_regenerate: Callable[..., Any]


_BLOCK_WRITABLE = ("ends_at", "slot_minutes", "slot_capacity", "is_manual", "notes")


class ScheduleWriter:
    """Saves the plan's rooms, tournaments and time blocks; records what changed."""

    def __init__(
        self,
        plan: SchedulePlan,
        *,
        actor: str,
        writes: EntryAwareWrites,
    ) -> None:
        self.plan, self.result, self.rooms = plan, plan.result, plan.rooms
        self.actor = actor
        self.writes = writes

    def apply(self, *, generate_slots: bool) -> None:
        for key, item in self.plan.locations.items():
            self._save_location(key, item)
        tournaments = {
            slug: self._save_tournament(slug, item) for slug, item in self.plan.tournaments.items()
        }
        for item in self.plan.blocks:
            slug = item.values["tournament"]
            tournament = (
                tournaments[slug] if slug in tournaments else Tournament.objects.get(slug=slug)
            )
            location = self.rooms.get(item.room_key)
            if tournament is None or location is None:
                continue  # its tournament or room was refused: that is reported already
            block = self._save_block(item, tournament, location)
            if block is not None and generate_slots and not block.is_manual:
                generated = self._call(item, self.writes.time_block_regenerate, time_block=block)
                if generated is not None:
                    self.result.slots_created += generated.created
                    self.result.slots_removed += generated.removed

    def _call(self, item: Item, service: Callable[..., Any], **kwargs: Any) -> Any:
        """Run a service; its refusal (a rule, a lock wait) becomes the item's error (None)."""
        try:
            return service(actor=self.actor, **kwargs)
        except LineupError as exc:
            self.result.error(item, exc.message)
            return None

    def _update(
        self,
        item: Item,
        obj: Any,
        changes: dict[str, Any],
        service: Callable[..., Any],
        **target: Any,
    ) -> Any:
        """Check the object as it would be saved, then save the changes through `service`;
        returns the object as saved, or None if a rule refused the changes."""
        if not changes:
            return obj
        if not _valid(_as_changed(obj, changes), item, self.result):
            return None
        return self._call(item, service, **target, **changes)

    def _save_location(self, key: RoomKey, item: Item) -> None:
        fields = {k: v for k, v in item.values.items() if k in LOCATION_FIELDS}
        location = self.rooms.get(key)
        if location is None:
            if _valid(Location(**fields), item, self.result):
                location = location_create(actor=self.actor, **fields)
                self.rooms.add(location)
                self.result.record("location", "create", item, str(location))
            return
        # Name and building found it (ignoring case): they are not rewritten.
        changes = _changes(location, fields, skip=("name", "building"))
        location = self._update(item, location, changes, location_update, location=location)
        if location is None:
            return
        self.result.record("location", "update" if changes else "unchanged", item, str(location))

    def _save_tournament(self, slug: str, item: Item) -> Tournament | None:
        fields = {k: v for k, v in item.values.items() if k in TOURNAMENT_FIELDS}
        tournament = Tournament.objects.filter(slug=slug).first()
        if tournament is None:
            return self._create_tournament(slug, fields, item)
        if tournament.deleted_at is not None:
            self.result.error(item, f"“{slug}” belongs to a deleted tournament")
            return None
        if fields.pop("status", tournament.status) != tournament.status:
            # Publishing, closing and cancelling have their own rules and side effects
            # (cancelling frees every place and tells the entrants): the admin's actions.
            self.result.error(
                item,
                f"{tournament.name} is {tournament.get_status_display().lower()}; change its "
                "status with the admin's publish, close or cancel actions, not an import",
            )
            return None
        changes = _changes(tournament, fields)
        if changes and not _valid(_as_changed(tournament, changes), item, self.result):
            return None
        cap_changed = "max_participants" in changes
        if cap_changed:
            tournament = self._call(
                item,
                self.writes.tournament_set_max_participants,
                tournament=tournament,
                max_participants=changes.pop("max_participants"),
            )
        if changes and tournament is not None:
            tournament = self._call(
                item, self.writes.tournament_update, tournament=tournament, **changes
            )
        if tournament is None:
            return None
        action = "update" if changes or cap_changed else "unchanged"
        self.result.record("tournament", action, item, slug)
        return tournament

    def _create_tournament(self, slug: str, fields: dict, item: Item) -> Tournament | None:
        if not fields.get("name"):
            self.result.error(item, f"“{slug}” is a new tournament, so it needs a name")
            return None
        with timezone.override(zone(self.plan.zone_name(slug))):  # the venue's days
            days = [local_date(b.values["starts_at"]) for b in self.plan.blocks_of(slug)]
        if days:  # a new tournament runs on the days of its time blocks unless told otherwise
            fields.setdefault("starts_on", min(days))
            fields.setdefault("ends_on", max(days))
        if not _valid(Tournament(**fields), item, self.result):
            return None
        tournament = tournament_create(actor=self.actor, **fields)
        self.result.record("tournament", "create", item, slug)
        return tournament

    def _save_block(self, item: Item, tournament: Tournament, location: Location) -> Any:
        values = item.values
        fields = {k: values[k] for k in _BLOCK_WRITABLE if k in values}
        where = {"tournament": tournament, "location": location, "starts_at": values["starts_at"]}
        with tournament_zone(tournament):
            label = f"{tournament.slug} · {location} · {local_stamp(values['starts_at'])}"
        block = TimeBlock.objects.filter(**where).first()
        if block is None:
            if not _valid(TimeBlock(**where, **fields), item, self.result):
                return None
            block = time_block_create(actor=self.actor, **where, **fields)
            self.result.record("time_block", "create", item, label)
            return block
        changes = _changes(block, fields)
        block = self._update(item, block, changes, time_block_update, time_block=block)
        if block is None:
            return None
        self.result.record("time_block", "update" if changes else "unchanged", item, label)
        return block


def _valid(obj: models.Model, item: Item, result: ScheduleImportResult) -> bool:
    """Does the object as it would be saved meet the model's rules? If not, say why."""
    try:
        obj.full_clean(validate_unique=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            prefix = "" if name == "__all__" else f"{name.replace('_', ' ')}: "
            for message in messages:
                result.error(item, f"{prefix}{_plain(message)}")
        return False
    return True


def _changes(obj: models.Model, fields: dict, *, skip: tuple = ()) -> dict[str, Any]:
    """The fields whose value differs from the object's."""
    return {k: v for k, v in fields.items() if k not in skip and getattr(obj, k) != v}


def _as_changed(obj: models.Model, changes: dict) -> models.Model:
    """A copy of the object with the changes, to check before a service saves them."""
    draft = copy.copy(obj)
    for name, value in changes.items():
        setattr(draft, name, value)
    return draft


# The database constraints, said the way an organizer would.
_CONSTRAINT_MESSAGES = {
    "tournament_registration_window_order": "registration must close after it opens",
    "tournament_ends_after_start": "the tournament cannot end before it starts",
    "tournament_max_participants_positive": "max participants must be at least 1",
    "tournament_changeover_at_most_a_day": "changeover minutes cannot be more than a day",
    "time_block_ends_after_start": "the time block ends before it starts",
    "time_block_slot_capacity_positive": "slot capacity must be at least 1",
    "time_block_generated_needs_slot_length": "slot minutes is missing (or mark it manual)",
}


def _plain(message: str) -> str:
    found = re.search(r"Constraint “(\w+)” is violated", message)
    if found and found.group(1) in _CONSTRAINT_MESSAGES:
        return _CONSTRAINT_MESSAGES[found.group(1)]
    return message
