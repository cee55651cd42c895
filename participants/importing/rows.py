"""One row of a participant list: its cells cleaned into field values, and what is wrong."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from common.tabular import cell_text
from participants.importing.columns import TEXT_LIMITS
from participants.models import Participant

_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d-%m-%Y")


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    text = re.split(r"[T ]", text, maxsplit=1)[0]  # "2011-03-04 00:00:00" from spreadsheets
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _plausible_year(year: int) -> bool:
    return 1900 <= year <= timezone.now().year


def name_key(first: str, last: str, school: str | None = None) -> str:
    """What two rows (or a row and a participant) must share to be the same person."""
    parts = [first, last] if school is None else [first, last, school]
    return "\x1f".join(" ".join((p or "").split()).lower() for p in parts)


@dataclass(slots=True)
class ParsedRow:
    line: int
    cells: list
    values: dict
    errors: list = field(default_factory=list)
    participant: Participant | None = None
    skipped: bool = False

    @property
    def external_id(self) -> str | None:
        return self.values.get("external_id") or None

    @property
    def full_name(self) -> str:
        return f"{self.values['first_name']} {self.values['last_name']}".strip()


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}"


@dataclass(frozen=True)
class RowChange:
    line: int
    action: str  # "create", "update" or "unchanged"
    name: str
    fields: tuple = ()


def row_parse(*, line: int, cells: list, columns: dict[str, int], width: int) -> ParsedRow:
    """Clean one row's cells into field values, collecting what is wrong with them."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    for name, index in columns.items():
        raw = cells[index] if index < len(cells) else None
        values[name] = raw if name == "birth_date" and isinstance(raw, date) else cell_text(raw)
    if any(cell_text(c) for c in cells[width:]):
        errors.append(
            f"the row has more values than the header has columns ({width}); is there an "
            "unquoted separator inside a value?"
        )
    for name in ("first_name", "last_name"):
        if not values[name]:
            errors.append(f"{name.replace('_', ' ')} is empty")
    for name, limit in TEXT_LIMITS.items():
        if len(values.get(name) or "") > limit:
            errors.append(f"{name.replace('_', ' ')} is longer than {limit} characters")
    _check_birth(values, errors)
    _check_age(values, errors)
    for name in ("coach_email", "contact_email"):
        if values.get(name):
            try:
                validate_email(values[name])
            except ValidationError:
                errors.append(f"{name.replace('_', ' ')} “{values[name]}” is not an e-mail address")
    return ParsedRow(line=line, cells=cells, values=values, errors=errors)


def _check_age(values: dict, errors: list) -> None:
    """The Age column: whole years from 0 to 120 (Excel's "12.0" too), or empty."""
    if "age" not in values:
        return
    text = values["age"]
    if not text:
        values["age"] = None
    elif re.fullmatch(r"\d{1,3}(\.0+)?", text) and int(float(text)) <= 120:
        values["age"] = int(float(text))
    else:
        errors.append(f"age “{text}” is not a whole number of years from 0 to 120")


def _check_birth(values: dict, errors: list) -> None:
    """Birth year and birth date columns become one `birth_year` value (or errors)."""
    year = None
    if values.get("birth_year"):
        text = values["birth_year"]
        if re.fullmatch(r"\d{4}(\.0+)?", text) and _plausible_year(int(float(text))):
            year = int(float(text))
        else:
            errors.append(f"birth year “{text}” is not a year between 1900 and now")
    if "birth_date" in values:
        raw = values.pop("birth_date")
        if raw:
            born = _parse_date(raw)
            shown = cell_text(raw)
            if born is None:
                errors.append(f"birth date “{shown}” is not a date (use YYYY-MM-DD or DD.MM.YYYY)")
            elif not _plausible_year(born.year):
                errors.append(f"birth date “{shown}” is not between 1900 and now")
            elif year is not None and year != born.year:
                errors.append(f"birth year {year} does not match birth date {born.isoformat()}")
            else:
                year = born.year
        values.setdefault("birth_year", "")
    if "birth_year" in values:
        values["birth_year"] = year
