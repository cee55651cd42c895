"""Schedule import: tournaments, rooms and time blocks from CSV, .xlsx or JSON.

The one code path behind `manage.py import_schedule`. It adds and updates, never deletes:
a tournament is found by its slug, a room by its name and building, a time block by its
tournament, room and start time. Everything is checked first (errors carry the line, or
the item for JSON); then the whole schedule is written in one transaction, so a file is
imported completely or not at all. A dry run does the same writes and rolls them back, so it
meets every rule the real run meets. Schedules are small: the file is read into memory.

CSV or .xlsx: one row per time block; a new tournament or room is created from the first
row that names it. Headings are matched like the participant import's (case, spaces, _ and -
do not matter):

    tournament (the slug; required)   tournament name (required for a new one)
    category, entry kind, status, max participants, changeover minutes, hold minutes,
    registration opens, registration closes (YYYY-MM-DD HH:MM)
    room (required), building, room capacity
    date (YYYY-MM-DD or DD.MM.YYYY), start, end (HH:MM; required)
    slot minutes, slot capacity (default 1), manual (yes/no), notes

JSON: an object with any of three lists; field names as in the models:

    {"tournaments": [{"slug": "piano-junior", "name": "Piano (junior)", "category": "music",
                      "entry_kind": "individual", "status": "published",
                      "starts_on": "2025-06-14", "ends_on": "2025-06-15",
                      "registration_opens_at": "2025-05-01 09:00",
                      "registration_closes_at": "2025-06-10 18:00",
                      "max_participants": 60, "changeover_minutes": 10, "hold_minutes": 30,
                      "description": "", "public_full_names": false,
                      "allows_typed_names": true, "requires_proof_of_work": false}],
     "locations": [{"name": "Recital Hall", "building": "Conservatory", "capacity": 80,
                    "notes": ""}],
     "time_blocks": [{"tournament": "piano-junior", "location": "Recital Hall",
                      "building": "Conservatory", "starts_at": "2025-06-14 09:00",
                      "ends_at": "2025-06-14 12:00", "slot_minutes": 10,
                      "slot_capacity": 1, "is_manual": false, "notes": ""}]}

Times without a UTC offset are in the site's time zone (TIME_ZONE).
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime, parse_time

from common.audit import audit_event_record
from common.locking import Busy
from common.tabular import ImportFileError, Table, normalize_heading
from common.times import local_date, local_stamp
from registrations.services import time_block_regenerate, tournament_set_max_participants
from tournaments.models import MAX_CHANGEOVER_MINUTES, Location, TimeBlock, Tournament
from tournaments.selectors import tournament_public_forget
from tournaments.services import ScheduleError, time_block_create


class ScheduleImportInvalid(ImportFileError):
    """Some items are bad: nothing was written. `result.errors` lists them."""

    def __init__(self, result):
        self.result = result
        outcome = "the import would stop" if result.dry_run else "nothing was imported"
        super().__init__(f"{len(result.errors)} problem(s) found, so {outcome}.")


@dataclass
class ScheduleImportResult:
    dry_run: bool
    counts: Counter = field(default_factory=Counter)
    changes: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    slots_created: int = 0
    slots_removed: int = 0

    def summary(self) -> str:
        """ "Created 1 tournament(s), 2 room(s), 4 time block(s); updated …; 3 unchanged." """
        parts = []
        for action, verb in (("create", "create"), ("update", "update")):
            items = [
                f"{self.counts[(kind, action)]} {label}"
                for kind, label in _KIND_LABELS.items()
                if self.counts[(kind, action)]
            ]
            if items:
                word = f"would {verb}" if self.dry_run else f"{verb}d"
                parts.append(f"{word} {', '.join(items)}")
        unchanged = sum(n for (_, action), n in self.counts.items() if action == "unchanged")
        parts.append(f"{unchanged} unchanged")
        if self.slots_created or self.slots_removed:
            word = "would generate" if self.dry_run else "generated"
            text = f"{word} {self.slots_created} slot(s)"
            if self.slots_removed:
                text += f" and remove {self.slots_removed}"
            parts.append(text)
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."


_KIND_LABELS = {"tournament": "tournament(s)", "location": "room(s)", "time_block": "time block(s)"}


# --- reading values --------------------------------------------------------------------------


class _Bad(ValueError):
    pass


def _text(limit):
    def parse(value):
        text = " ".join(str(value).split()) if value is not None else ""
        if len(text) > limit:
            raise _Bad(f"is longer than {limit} characters")
        return text

    return parse


def _long_text(value):
    return str(value).strip() if value is not None else ""


def _integer(low, high, *, empty=None):
    def parse(value):
        if value in (None, ""):
            return empty
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        try:
            number = int(str(value).strip())
        except ValueError:
            raise _Bad(f"“{value}” is not a whole number") from None
        if not low <= number <= high:
            raise _Bad(f"{number} is not between {low} and {high}")
        return number

    return parse


def _choice(choices):
    by_text = {}
    for value, label in choices.choices:
        by_text[normalize_heading(value)] = value
        by_text[normalize_heading(label)] = value

    def parse(value):
        found = by_text.get(normalize_heading(value))
        if found is None:
            raise _Bad(f"“{value}” is not one of {', '.join(choices.values)}")
        return found

    return parse


def _boolean(value):
    if isinstance(value, bool):
        return value
    text = normalize_heading(value)
    if text in ("yes", "y", "true", "1", "x"):
        return True
    if text in ("no", "n", "false", "0", ""):
        return False
    raise _Bad(f"“{value}” is not yes or no")


def _a_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        found = parse_date(text) or datetime.strptime(text, "%d.%m.%Y").date()
    except ValueError:
        found = None
    if found is None:
        raise _Bad(f"“{value}” is not a date (use YYYY-MM-DD)")
    return found


def _a_time(value):
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    try:
        found = parse_time(str(value).strip())
    except ValueError:
        found = None
    if found is None:
        raise _Bad(f"“{value}” is not a time (use HH:MM)")
    return found


def _moment(value):
    if isinstance(value, datetime):
        found = value
    else:
        try:
            found = parse_datetime(str(value).strip())
        except ValueError:
            found = None
        if found is None:
            raise _Bad(f"“{value}” is not a date and time (use YYYY-MM-DD HH:MM)")
    return found if timezone.is_aware(found) else timezone.make_aware(found)


def _optional(parse):
    def parse_optional(value):
        return None if value in (None, "") else parse(value)

    return parse_optional


_TOURNAMENT_FIELDS = {
    "slug": _text(200),
    "name": _text(200),
    "description": _long_text,
    "category": _choice(Tournament.Category),
    "entry_kind": _choice(Tournament.EntryKind),
    "status": _choice(Tournament.Status),
    "starts_on": _optional(_a_date),
    "ends_on": _optional(_a_date),
    "registration_opens_at": _optional(_moment),
    "registration_closes_at": _optional(_moment),
    "max_participants": _integer(1, 1_000_000),
    "changeover_minutes": _integer(0, MAX_CHANGEOVER_MINUTES, empty=0),
    "hold_minutes": _integer(1, 32767),
    "public_full_names": _boolean,
    "allows_typed_names": _boolean,
    "requires_proof_of_work": _boolean,
}
_LOCATION_FIELDS = {
    "name": _text(200),
    "building": _text(200),
    "capacity": _integer(1, 1_000_000),
    "notes": _long_text,
}
_BLOCK_FIELDS = {
    "tournament": _text(200),
    "location": _text(200),
    "building": _text(200),
    "starts_at": _moment,
    "ends_at": _moment,
    "date": _a_date,
    "start": _a_time,
    "end": _a_time,
    "slot_minutes": _integer(1, 24 * 60),
    "slot_capacity": _integer(1, 32767, empty=1),
    "is_manual": _boolean,
    "notes": _long_text,
}

# CSV headings (normalized) → (kind, field).
_CSV_COLUMNS = {
    **{h: ("tournament", "slug") for h in ("tournament", "tournament slug", "slug")},
    "tournament name": ("tournament", "name"),
    "category": ("tournament", "category"),
    "entry kind": ("tournament", "entry_kind"),
    "status": ("tournament", "status"),
    "max participants": ("tournament", "max_participants"),
    "changeover minutes": ("tournament", "changeover_minutes"),
    "hold minutes": ("tournament", "hold_minutes"),
    **{
        h: ("tournament", "registration_opens_at")
        for h in ("registration opens", "registration opens at")
    },
    **{
        h: ("tournament", "registration_closes_at")
        for h in ("registration closes", "registration closes at")
    },
    **{h: ("location", "name") for h in ("room", "location", "room name")},
    "building": ("location", "building"),
    "room capacity": ("location", "capacity"),
    "date": ("time_block", "date"),
    **{h: ("time_block", "start") for h in ("start", "starts", "start time", "from")},
    **{h: ("time_block", "end") for h in ("end", "ends", "end time", "until", "to")},
    **{h: ("time_block", "slot_minutes") for h in ("slot minutes", "slot length")},
    **{h: ("time_block", "slot_capacity") for h in ("slot capacity", "places per slot")},
    **{h: ("time_block", "is_manual") for h in ("manual", "manual slots")},
    "notes": ("time_block", "notes"),
}
_CSV_REQUIRED = {
    ("tournament", "slug"): "tournament",
    ("location", "name"): "room",
    ("time_block", "date"): "date",
    ("time_block", "start"): "start",
    ("time_block", "end"): "end",
}


# --- reading the file into items -------------------------------------------------------------


@dataclass
class _Item:
    kind: str
    where: str
    values: dict
    errors: list = field(default_factory=list)
    room_key: tuple = ()

    def problem(self, message):
        self.errors.append(f"{self.where}: {message}")


def _parse_values(item, raw, fields):
    for name, value in raw.items():
        try:
            item.values[name] = fields[name](value)
        except _Bad as exc:
            item.problem(f"{name.replace('_', ' ')} {exc}")


def _items_from_json(data) -> list:
    if not isinstance(data, dict):
        raise ImportFileError(
            "The JSON must be an object with “tournaments”, “locations” and “time_blocks”."
        )
    lists = {
        "tournaments": ("tournament", _TOURNAMENT_FIELDS),
        "locations": ("location", _LOCATION_FIELDS),
        "time_blocks": ("time_block", _BLOCK_FIELDS),
    }
    unknown = set(data) - set(lists)
    if unknown:
        raise ImportFileError(
            f"Unknown key(s) {', '.join(sorted(unknown))}: the JSON may have “tournaments”, "
            "“locations” and “time_blocks”."
        )
    items = []
    for key, (kind, fields) in lists.items():
        entries = data.get(key, [])
        if not isinstance(entries, list):
            raise ImportFileError(f"“{key}” must be a list.")
        for number, entry in enumerate(entries, start=1):
            item = _Item(kind, f"{key} #{number}", {})
            if not isinstance(entry, dict):
                item.problem("must be an object with fields")
                items.append(item)
                continue
            raw = {}
            for name, value in entry.items():
                canonical = normalize_heading(name).replace(" ", "_")
                if canonical not in fields:
                    item.problem(f"unknown field “{name}” (known: {', '.join(fields)})")
                else:
                    raw[canonical] = value
            _parse_values(item, raw, fields)
            items.append(item)
    return items


def _items_from_table(table) -> list:
    columns, ignored = {}, []
    for index, heading in enumerate(table.header):
        target = _CSV_COLUMNS.get(normalize_heading(heading))
        if target is None:
            if heading:
                ignored.append(heading)
        elif target in columns:
            raise ImportFileError(f"two columns mean {target[1].replace('_', ' ')}; keep one.")
        else:
            columns[target] = index
    missing = [label for key, label in _CSV_REQUIRED.items() if key not in columns]
    if missing:
        raise ImportFileError(
            f"the header has no {', '.join(missing)} column(s) (found: "
            f"{', '.join(h for h in table.header if h)}).",
            line=table.header_line,
        )
    if ignored:
        raise ImportFileError(
            f"unknown column(s) {', '.join(ignored)}; see `manage.py import_schedule --help`.",
            line=table.header_line,
        )
    fields_of = {
        "tournament": _TOURNAMENT_FIELDS,
        "location": _LOCATION_FIELDS,
        "time_block": _BLOCK_FIELDS,
    }
    items = []
    for line, cells in table.rows():
        raw = {"tournament": {}, "location": {}, "time_block": {}}
        for (kind, name), index in columns.items():
            value = cells[index] if index < len(cells) else None
            if value not in (None, "") or (kind, name) in _CSV_REQUIRED:
                raw[kind][name] = "" if value is None else value
        where = f"Line {line}"
        tournament = _Item("tournament", where, {})
        location = _Item("location", where, {})
        block = _Item("time_block", where, {})
        for item in (tournament, location, block):
            _parse_values(item, raw[item.kind], fields_of[item.kind])
        block.values.setdefault("tournament", tournament.values.get("slug", ""))
        block.values["location"] = location.values.get("name", "")
        block.values["building"] = location.values.get("building", "")
        items.extend([tournament, location, block])
    return items


# --- the import ------------------------------------------------------------------------------


def schedule_import(
    *,
    source,
    name: str = "",
    actor: str,
    dry_run: bool = False,
    generate_slots: bool = False,
) -> ScheduleImportResult:
    """Add or update the tournaments, rooms and time blocks in `source` (a path or a binary
    file); with `generate_slots`, (re)generate the slots of every time block in the file
    through `time_block_generate_slots`.

    Raises ImportFileError for a file that cannot be read and ScheduleImportInvalid (nothing
    written) when any item is bad or a schedule rule refuses a change.
    """
    name = name or (Path(source).name if isinstance(source, str | Path) else "upload")
    items = _read(source, name)
    result = ScheduleImportResult(dry_run=dry_run)
    plan = _Plan(items, result)
    if result.errors:
        result.errors.sort(key=_error_order)
        raise ScheduleImportInvalid(result)
    try:
        with transaction.atomic():
            plan.apply(actor=actor, generate_slots=generate_slots)
            if result.errors or dry_run:
                raise _RollBack()  # a dry run meets every rule the real one does, then undoes
    except _RollBack:
        pass
    except IntegrityError as exc:
        raise ImportFileError(
            f"The schedule changed while this file was imported ({exc}); nothing was written. "
            "Run the import again."
        ) from exc
    if result.errors:
        result.errors.sort(key=_error_order)
        raise ScheduleImportInvalid(result)
    return result


_LIST_ORDER = {"Line": 0, "tournaments": 1, "locations": 2, "time_blocks": 3}


def _error_order(message):
    """CSV errors by line; JSON errors by list and position (the sort is stable)."""
    found = re.match(r"(Line|tournaments|locations|time_blocks) #?(\d+)", message)
    return (_LIST_ORDER[found.group(1)], int(found.group(2))) if found else (9, 0)


class _RollBack(Exception):
    pass


def _read(source, name):
    if isinstance(source, str | Path):
        with open(source, "rb") as f:
            start = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    else:
        source.seek(0)
        start = source.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if name.lower().endswith(".json") or start.startswith((b"{", b"[")):
        if isinstance(source, str | Path):
            raw = Path(source).read_bytes()
        else:
            source.seek(0)
            raw = source.read()
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise ImportFileError("The file is not UTF-8 text.") from exc
        except json.JSONDecodeError as exc:
            raise ImportFileError(
                f"this is not valid JSON: {exc.msg} (column {exc.colno}).", line=exc.lineno
            ) from exc
        return _items_from_json(data)
    return _items_from_table(Table(source, name=name))


class _Rooms:
    """Rooms by (building, name), compared like headings: "Room 1" is "room-1"."""

    def __init__(self):
        self.by_key = {}
        for location in Location.objects.order_by("created_at"):
            self.by_key.setdefault(_room_key(location.building, location.name), location)

    def get(self, key):
        return self.by_key.get(key)

    def add(self, location):
        self.by_key[_room_key(location.building, location.name)] = location


def _room_key(building, name):
    return (normalize_heading(building), normalize_heading(name))


class _Plan:
    """The file's items, checked against each other and the database, ready to apply."""

    def __init__(self, items, result):
        self.result = result
        self.rooms = _Rooms()
        self.tournaments = {}  # slug → item
        self.locations = {}  # room key → item
        self.blocks = []
        # Whatever a refused tournament or room row names is known, just not importable:
        # its time blocks are skipped silently instead of adding "no such tournament".
        self.refused = set()
        for item in items:
            result.errors.extend(item.errors)
            if item.errors and item.kind == "tournament" and item.values.get("slug"):
                self.refused.add(("tournament", item.values["slug"]))
            if item.errors and item.kind == "location" and item.values.get("name"):
                key = _room_key(item.values.get("building", ""), item.values["name"])
                self.refused.add(("location", key))
        items = [i for i in items if not i.errors]
        for item in items:
            if item.kind == "tournament":
                self._add_tournament(item)
            elif item.kind == "location":
                self._add_location(item)
        for item in items:
            if item.kind == "time_block":
                self._add_block(item)
        self._check_overlaps()

    def _error(self, item, message):
        self.result.errors.append(f"{item.where}: {message}")

    def _merge(self, registry, key, item, label):
        """Several CSV rows may describe one tournament or room: they must agree. In JSON
        each one is listed once."""
        earlier = registry.get(key)
        if earlier is None:
            registry[key] = item
            return
        if not item.where.startswith("Line"):
            self._error(item, f"{label} is already in {earlier.where}")
            return
        for name, value in item.values.items():
            if name in earlier.values and earlier.values[name] != value:
                self._error(
                    item,
                    f"{label}: {name.replace('_', ' ')} “{value}” differs from "
                    f"“{earlier.values[name]}” on {earlier.where.lower()}",
                )
            else:
                earlier.values[name] = value

    def _add_tournament(self, item):
        slug = item.values.get("slug", "")
        if not slug:
            self._error(item, "the tournament's slug is missing")
            return
        self._merge(self.tournaments, slug, item, f"tournament {slug}")

    def _add_location(self, item):
        if not item.values.get("name"):
            self._error(item, "the room's name is missing")
            return
        key = _room_key(item.values.get("building", ""), item.values["name"])
        self._merge(self.locations, key, item, f"room {item.values['name']}")

    def _add_block(self, item):
        values = item.values
        if {"date", "start", "end"} & set(values):
            if not {"date", "start", "end"} <= set(values):
                self._error(item, "give the date, the start and the end")
                return
            day = values.pop("date")
            values["starts_at"] = timezone.make_aware(datetime.combine(day, values.pop("start")))
            values["ends_at"] = timezone.make_aware(datetime.combine(day, values.pop("end")))
        for name in ("tournament", "location", "starts_at", "ends_at"):
            if not values.get(name):
                self._error(item, f"{name.replace('_', ' ')} is missing")
                return
        if values["ends_at"] <= values["starts_at"]:
            self._error(item, "the time block ends before it starts")
            return
        if not values.get("is_manual") and not values.get("slot_minutes"):
            self._error(item, "slot minutes is missing (or mark the block's slots as manual)")
            return
        slug = values["tournament"]
        item.room_key = _room_key(values.get("building", ""), values["location"])
        if ("tournament", slug) in self.refused or ("location", item.room_key) in self.refused:
            return
        if slug not in self.tournaments and not Tournament.objects.filter(slug=slug).exists():
            self._error(item, f"no tournament has the slug “{slug}”, in the file or in Lineup")
            return
        if item.room_key not in self.locations and self.rooms.get(item.room_key) is None:
            building = f" in {values['building']}" if values.get("building") else ""
            self._error(item, f"there is no room “{values['location']}”{building}")
            return
        values.setdefault("slot_capacity", 1)
        self.blocks.append(item)

    def _check_overlaps(self):
        """Two time blocks in one room at once is a mistake, whichever tournaments they serve."""
        by_room = {}
        for item in self.blocks:
            by_room.setdefault(item.room_key, []).append(item)
        for key, items in by_room.items():
            items.sort(key=lambda i: i.values["starts_at"])
            latest = None  # the block seen so far that ends last
            for item in items:
                if latest is not None and item.values["starts_at"] < latest.values["ends_at"]:
                    self._error(item, f"overlaps the time block on {latest.where.lower()}")
                if latest is None or item.values["ends_at"] > latest.values["ends_at"]:
                    latest = item
            location = self.rooms.get(key)
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
                    self._error(
                        item,
                        f"{location} is already used by {clash.tournament.name} from "
                        f"{local_stamp(clash.starts_at)} to {local_stamp(clash.ends_at)}",
                    )

    # -- writing, inside the caller's transaction ----------------------------------------------

    def apply(self, *, actor, generate_slots):
        for key, item in self.locations.items():
            self._save_location(key, item, actor)
        tournaments = {
            slug: self._save_tournament(slug, item, actor)
            for slug, item in self.tournaments.items()
        }
        for item in self.blocks:
            slug = item.values["tournament"]
            tournament = (
                tournaments[slug] if slug in tournaments else Tournament.objects.get(slug=slug)
            )
            location = self.rooms.get(item.room_key)
            if tournament is None or location is None:
                continue  # its tournament or room was refused: that is reported already
            block = self._save_block(item, tournament, location, actor)
            if block is not None and generate_slots and not block.is_manual:
                try:
                    generated = time_block_regenerate(time_block=block, actor=actor)
                except (ScheduleError, Busy) as exc:
                    self._error(item, exc.message)
                    continue
                self.result.slots_created += generated.created
                self.result.slots_removed += generated.removed

    def _record(self, kind, action, item, label):
        self.result.counts[(kind, action)] += 1
        if action != "unchanged":
            noun = {"location": "room"}.get(kind, kind.replace("_", " "))
            self.result.changes.append((action, f"{noun} {label}", item.where))

    def _save_location(self, key, item, actor):
        fields = {k: v for k, v in item.values.items() if k in _LOCATION_FIELDS}
        location = self.rooms.get(key)
        if location is not None:
            # Name and building found it (ignoring case): they are not rewritten.
            fields = {k: v for k, v in fields.items() if k not in ("name", "building")}
            changed = self._update(location, fields, item, actor, "location")
            self._record("location", "update" if changed else "unchanged", item, str(location))
            return
        location = Location(**fields)
        if self._valid(location, item):
            location.save()
            audit_event_record(
                actor=actor, action="location.create", target=location, name=str(location)
            )
            self.rooms.add(location)
            self._record("location", "create", item, str(location))

    def _save_tournament(self, slug, item, actor):
        fields = {k: v for k, v in item.values.items() if k in _TOURNAMENT_FIELDS}
        tournament = Tournament.objects.filter(slug=slug).first()
        if tournament is None:
            return self._create_tournament(slug, fields, item, actor)
        if tournament.deleted_at is not None:
            self._error(item, f"“{slug}” belongs to a deleted tournament")
            return None
        if (
            fields.get("entry_kind", tournament.entry_kind) != tournament.entry_kind
            and tournament.registrations.exists()
        ):
            self._error(
                item,
                f"{tournament.name} already has registrations, so it cannot change between "
                "individual and team entries",
            )
            return None
        status = fields.pop("status", tournament.status)
        if status != tournament.status:
            # Publishing, closing and cancelling have their own rules and side effects
            # (cancelling frees every place and tells the entrants): the admin's actions.
            self._error(
                item,
                f"{tournament.name} is {tournament.get_status_display().lower()}; change its "
                "status with the admin's publish, close or cancel actions, not an import",
            )
            return None
        cap = fields.pop("max_participants", tournament.max_participants)
        cap_changed = cap != tournament.max_participants
        if cap_changed:  # through the service: never below the places already taken
            try:
                tournament = tournament_set_max_participants(
                    tournament=tournament, max_participants=cap, actor=actor
                )
            except (ScheduleError, Busy) as exc:
                self._error(item, exc.message)
                return None
        changed = self._update(tournament, fields, item, actor, "tournament")
        if changed is None:
            return None
        if changed:
            tournament_public_forget(slugs=[slug])
        self._record("tournament", "update" if changed or cap_changed else "unchanged", item, slug)
        return tournament

    def _create_tournament(self, slug, fields, item, actor):
        if not fields.get("name"):
            self._error(item, f"“{slug}” is a new tournament, so it needs a name")
            return None
        days = [
            local_date(b.values["starts_at"]) for b in self.blocks if b.values["tournament"] == slug
        ]
        if days:  # a new tournament runs on the days of its time blocks unless told otherwise
            fields.setdefault("starts_on", min(days))
            fields.setdefault("ends_on", max(days))
        tournament = Tournament(**fields)
        if not self._valid(tournament, item):
            return None
        tournament.save()
        tournament_public_forget(slugs=[slug])  # a deleted namesake's, if any
        audit_event_record(
            actor=actor, action="tournament.create", target=tournament, tournament=tournament
        )
        self._record("tournament", "create", item, slug)
        return tournament

    def _save_block(self, item, tournament, location, actor):
        values = item.values
        fields = {
            k: values[k]
            for k in ("ends_at", "slot_minutes", "slot_capacity", "is_manual", "notes")
            if k in values
        }
        label = f"{tournament.slug} · {location} · {local_stamp(values['starts_at'])}"
        block = TimeBlock.objects.filter(
            tournament=tournament, location=location, starts_at=values["starts_at"]
        ).first()
        if block is not None:
            changed = self._update(block, fields, item, actor, "time_block")
            if changed is None:
                return None
            self._record("time_block", "update" if changed else "unchanged", item, label)
            return block
        draft = TimeBlock(
            tournament=tournament, location=location, starts_at=values["starts_at"], **fields
        )
        if not self._valid(draft, item):
            return None
        block = time_block_create(
            actor=actor,
            tournament=tournament,
            location=location,
            starts_at=values["starts_at"],
            **fields,
        )
        self._record("time_block", "create", item, label)
        return block

    def _update(self, obj, fields, item, actor, kind):
        """Save the fields that differ; returns their names, or None if they are invalid."""
        changed = sorted(k for k, v in fields.items() if getattr(obj, k) != v)
        if not changed:
            return changed
        for name in changed:
            setattr(obj, name, fields[name])
        if not self._valid(obj, item):
            return None
        saved = [*changed, "updated_at"]
        if hasattr(obj, "version"):  # tournaments: others' optimistic checks must see it
            obj.version += 1
            saved.append("version")
        obj.save(update_fields=saved)
        audit_event_record(actor=actor, action=f"{kind}.update", target=obj, changed=changed)
        return changed

    def _valid(self, obj, item):
        try:
            obj.full_clean(validate_unique=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                prefix = "" if name == "__all__" else f"{name.replace('_', ' ')}: "
                for message in messages:
                    found = re.search(r"Constraint “(\w+)” is violated", message)
                    if found and found.group(1) in _CONSTRAINT_MESSAGES:
                        message = _CONSTRAINT_MESSAGES[found.group(1)]
                    self._error(item, f"{prefix}{message}")
            return False
        return True


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
