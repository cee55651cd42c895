"""Reading one value of the file: text, numbers, choices, dates and times, each checked.

A parser takes what the file gave (a string from CSV or JSON, a number or a date from a
spreadsheet) and returns the model's value, or raises `BadValue` saying what is wrong.
"""

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.dateparse import parse_date, parse_datetime, parse_time

from common.tabular import normalize_heading
from common.times import time_zone_validate
from tournaments.models import MAX_CHANGEOVER_MINUTES, Tournament

Parser = Callable[[Any], Any]
T = TypeVar("T")


class BadValue(ValueError):
    pass


def _text(limit: int) -> Parser:
    def parse(value: Any) -> Any:
        text = " ".join(str(value).split()) if value is not None else ""
        if len(text) > limit:
            raise BadValue(f"is longer than {limit} characters")
        return text

    return parse


def _long_text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _integer(low: int, high: int, *, empty: int | None = None) -> Parser:
    def parse(value: Any) -> Any:
        if value in (None, ""):
            return empty
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        try:
            number = int(str(value).strip())
        except ValueError:
            raise BadValue(f"“{value}” is not a whole number") from None
        if not low <= number <= high:
            raise BadValue(f"{number} is not between {low} and {high}")
        return number

    return parse


def _choice(choices: type[models.TextChoices]) -> Parser:
    by_text = {}
    for value, label in choices.choices:
        by_text[normalize_heading(value)] = value
        by_text[normalize_heading(label)] = value

    def parse(value: Any) -> Any:
        found = by_text.get(normalize_heading(value))
        if found is None:
            raise BadValue(f"“{value}” is not one of {', '.join(choices.values)}")
        return found

    return parse


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = normalize_heading(value)
    if text in ("yes", "y", "true", "1", "x"):
        return True
    if text in ("no", "n", "false", "0", ""):
        return False
    raise BadValue(f"“{value}” is not yes or no")


def _or_none(parse: Callable[[str], T | None], text: str) -> T | None:
    """What `parse` makes of the text; None if it does not fit (Django's parsers raise on
    a well-formed but impossible value, such as February 30)."""
    try:
        return parse(text)
    except ValueError:
        return None


def _day_first(text: str) -> date:
    return datetime.strptime(text, "%d.%m.%Y").date()


def _a_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    found = _or_none(parse_date, text) or _or_none(_day_first, text)
    if found is None:
        raise BadValue(f"“{value}” is not a date (use YYYY-MM-DD)")
    return found


def _a_time(value: Any) -> time:
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    found = _or_none(parse_time, str(value).strip())
    if found is None:
        raise BadValue(f"“{value}” is not a time (use HH:MM)")
    return found


def _moment(value: Any) -> datetime:
    """A date and time; one without a UTC offset stays naive: the checking reads it in its
    tournament's zone, known only once the whole file is read."""
    found = value if isinstance(value, datetime) else _or_none(parse_datetime, str(value).strip())
    if found is None:
        raise BadValue(f"“{value}” is not a date and time (use YYYY-MM-DD HH:MM)")
    return found


def _time_zone(value: Any) -> str:
    text = str(value).strip() if value is not None else ""
    try:
        time_zone_validate(text)
    except ValidationError as exc:
        raise BadValue(exc.messages[0].rstrip(".")) from None
    return text


def _optional(parse: Parser) -> Parser:
    def parse_optional(value: Any) -> Any:
        return None if value in (None, "") else parse(value)

    return parse_optional


TOURNAMENT_FIELDS: dict[str, Parser] = {
    "slug": _text(200),
    "name": _text(200),
    "description": _long_text,
    "category": _choice(Tournament.Category),
    "entry_kind": _choice(Tournament.EntryKind),
    "status": _choice(Tournament.Status),
    "time_zone": _time_zone,
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
LOCATION_FIELDS: dict[str, Parser] = {
    "name": _text(200),
    "building": _text(200),
    "capacity": _integer(1, 1_000_000),
    "notes": _long_text,
}
BLOCK_FIELDS: dict[str, Parser] = {
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
CSV_COLUMNS: dict[str, tuple[str, str]] = {
    **{h: ("tournament", "slug") for h in ("tournament", "tournament slug", "slug")},
    "tournament name": ("tournament", "name"),
    "category": ("tournament", "category"),
    "entry kind": ("tournament", "entry_kind"),
    "status": ("tournament", "status"),
    **{h: ("tournament", "time_zone") for h in ("time zone", "timezone", "tz")},
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
CSV_REQUIRED = {
    ("tournament", "slug"): "tournament",
    ("location", "name"): "room",
    ("time_block", "date"): "date",
    ("time_block", "start"): "start",
    ("time_block", "end"): "end",
}

FIELDS_OF = {
    "tournament": TOURNAMENT_FIELDS,
    "location": LOCATION_FIELDS,
    "time_block": BLOCK_FIELDS,
}
