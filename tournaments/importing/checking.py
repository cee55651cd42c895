"""Checking the items of a file against each other and against Lineup, before any write.

The result is a plan: the tournaments and rooms the file names (several CSV rows may name one;
they must agree) and the time blocks to add or update, each block's tournament and room known
to exist (in the file or in Lineup) and no two blocks in one room at once. Every problem is
collected with its line; the writing starts only if there is none.
"""

from datetime import datetime

from django.utils import timezone

from common.tabular import normalize_heading
from common.times import (
    default_time_zone,
    local_aware,
    local_moment,
    local_stamp,
    tournament_zone,
    zone,
    zone_abbreviation,
)
from tournaments.importing.reading import Item
from tournaments.importing.result import ScheduleImportResult
from tournaments.models import Location, TimeBlock, Tournament

RoomKey = tuple[str, str]


def room_key(building: str, name: str) -> RoomKey:
    """How rooms are compared: like headings, so "Room 1" is "room-1"."""
    return (normalize_heading(building), normalize_heading(name))


class Rooms:
    """The rooms in Lineup by their key; the writing adds the ones it creates."""

    def __init__(self) -> None:
        self.by_key: dict[RoomKey, Location] = {}
        for location in Location.objects.order_by("created_at"):
            self.by_key.setdefault(room_key(location.building, location.name), location)

    def get(self, key: RoomKey) -> Location | None:
        return self.by_key.get(key)

    def add(self, location: Location) -> None:
        self.by_key[room_key(location.building, location.name)] = location


class SchedulePlan:
    """The file's items, checked against each other and the database, ready to write."""

    def __init__(self, items: list[Item], result: ScheduleImportResult) -> None:
        self.result = result
        self.rooms = Rooms()
        self.tournaments: dict[str, Item] = {}  # slug → item
        self.locations: dict[RoomKey, Item] = {}
        self.blocks: list[Item] = []
        # Whatever a refused tournament or room row names is known, just not importable:
        # its time blocks are skipped silently instead of adding "no such tournament".
        self.refused: set[tuple[str, object]] = set()
        for item in items:
            result.errors.extend(item.errors)
            if item.errors and item.kind == "tournament" and item.values.get("slug"):
                self.refused.add(("tournament", item.values["slug"]))
            if item.errors and item.kind == "location" and item.values.get("name"):
                key = room_key(item.values.get("building", ""), item.values["name"])
                self.refused.add(("location", key))
        items = [i for i in items if not i.errors]
        for item in items:
            if item.kind == "tournament":
                self._add_tournament(item)
            elif item.kind == "location":
                self._add_location(item)
        for slug, item in self.tournaments.items():
            self._localize(item, ("registration_opens_at", "registration_closes_at"), slug)
        for item in items:
            if item.kind == "time_block":
                self._add_block(item)
        for item, message in _overlaps(self.blocks, self.rooms):
            result.error(item, message)

    def zone_name(self, slug: str) -> str:
        """The zone of a tournament's times: the file's, else Lineup's, else the default."""
        item = self.tournaments.get(slug)
        if item is not None and item.values.get("time_zone"):
            return item.values["time_zone"]
        found = Tournament.objects.filter(slug=slug).values_list("time_zone", flat=True).first()
        return found or default_time_zone()

    def _localize(self, item: Item, names: tuple[str, ...], slug: str) -> bool:
        """Read the item's naive times in the tournament's zone; False (with the error) for
        a time that does not exist there."""
        tz = zone(self.zone_name(slug))
        for name in names:
            value = item.values.get(name)
            if isinstance(value, datetime) and timezone.is_naive(value):
                try:
                    item.values[name] = local_aware(value, tz=tz)
                except ValueError as exc:
                    self.result.error(item, f"{name.replace('_', ' ')}: {exc}")
                    return False
        return True

    def blocks_of(self, slug: str) -> list[Item]:
        return [item for item in self.blocks if item.values["tournament"] == slug]

    def _merge(self, registry: dict, key: object, item: Item, label: str) -> None:
        """Several CSV rows may describe one tournament or room: they must agree. In JSON
        each one is listed once."""
        earlier = registry.get(key)
        if earlier is None:
            registry[key] = item
            return
        if not item.where.startswith("Line"):
            self.result.error(item, f"{label} is already in {earlier.where}")
            return
        for name, value in item.values.items():
            if name in earlier.values and earlier.values[name] != value:
                self.result.error(
                    item,
                    f"{label}: {name.replace('_', ' ')} “{value}” differs from "
                    f"“{earlier.values[name]}” on {earlier.where.lower()}",
                )
            else:
                earlier.values[name] = value

    def _add_tournament(self, item: Item) -> None:
        slug = item.values.get("slug", "")
        if not slug:
            self.result.error(item, "the tournament's slug is missing")
            return
        self._merge(self.tournaments, slug, item, f"tournament {slug}")

    def _add_location(self, item: Item) -> None:
        if not item.values.get("name"):
            self.result.error(item, "the room's name is missing")
            return
        key = room_key(item.values.get("building", ""), item.values["name"])
        self._merge(self.locations, key, item, f"room {item.values['name']}")

    def _add_block(self, item: Item) -> None:
        values = item.values
        if values.get("tournament") and not self._localize(
            item, ("starts_at", "ends_at"), values["tournament"]
        ):
            return
        problem = _block_times_problem(
            values, self.zone_name(values["tournament"]) if values.get("tournament") else None
        )
        if problem:
            self.result.error(item, problem)
            return
        slug = values["tournament"]
        item.room_key = room_key(values.get("building", ""), values["location"])
        if ("tournament", slug) in self.refused or ("location", item.room_key) in self.refused:
            return
        if slug not in self.tournaments and not Tournament.objects.filter(slug=slug).exists():
            self.result.error(
                item, f"no tournament has the slug “{slug}”, in the file or in Lineup"
            )
            return
        if item.room_key not in self.locations and self.rooms.get(item.room_key) is None:
            building = f" in {values['building']}" if values.get("building") else ""
            self.result.error(item, f"there is no room “{values['location']}”{building}")
            return
        values.setdefault("slot_capacity", 1)
        self.blocks.append(item)


def _block_times_problem(values: dict, zone_name: str | None) -> str:
    """Turn a CSV row's date, start and end (local to the tournament's zone) into `starts_at`
    and `ends_at`; what is missing or wrong about the block, or ""."""
    if {"date", "start", "end"} & set(values):
        if not {"date", "start", "end"} <= set(values):
            return "give the date, the start and the end"
        if zone_name is None:
            return "tournament is missing"
        day = values.pop("date")
        try:
            values["starts_at"] = local_moment(day, values.pop("start"), zone_name=zone_name)
            values["ends_at"] = local_moment(day, values.pop("end"), zone_name=zone_name)
        except ValueError as exc:
            return str(exc)
    for name in ("tournament", "location", "starts_at", "ends_at"):
        if not values.get(name):
            return f"{name.replace('_', ' ')} is missing"
    if values["ends_at"] <= values["starts_at"]:
        return "the time block ends before it starts"
    if not values.get("is_manual") and not values.get("slot_minutes"):
        return "slot minutes is missing (or mark the block's slots as manual)"
    return ""


def _overlaps(blocks: list[Item], rooms: Rooms) -> list[tuple[Item, str]]:
    """Two time blocks in one room at once is a mistake, whichever tournaments they serve:
    within the file, and against the blocks already in Lineup (a block the file updates is
    not its own clash)."""
    by_room: dict[RoomKey, list[Item]] = {}
    for item in blocks:
        by_room.setdefault(item.room_key, []).append(item)
    problems = []
    for key, items in by_room.items():
        items.sort(key=lambda i: i.values["starts_at"])
        latest = None  # the block seen so far that ends last
        for item in items:
            if latest is not None and item.values["starts_at"] < latest.values["ends_at"]:
                problems.append((item, f"overlaps the time block on {latest.where.lower()}"))
            if latest is None or item.values["ends_at"] > latest.values["ends_at"]:
                latest = item
        location = rooms.get(key)
        if location is None:
            continue
        for item in items:
            clash = (
                TimeBlock.objects.filter(
                    location=location,
                    starts_at__lt=item.values["ends_at"],
                    ends_at__gt=item.values["starts_at"],
                )
                .exclude(
                    tournament__slug=item.values["tournament"],
                    starts_at=item.values["starts_at"],
                )
                .select_related("tournament")
                .first()
            )
            if clash is not None:
                with tournament_zone(clash.tournament):  # as that tournament reads it
                    when = (
                        f"{local_stamp(clash.starts_at)} to {local_stamp(clash.ends_at)} "
                        f"({zone_abbreviation(clash.starts_at)})"
                    )
                problems.append(
                    (item, f"{location} is already used by {clash.tournament.name} from {when}")
                )
    return problems
