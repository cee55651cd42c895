"""Reading a schedule file into items: one per tournament, room or time block it describes.

CSV and .xlsx go through `common.tabular.Table` (one row holds a tournament, a room and a
time block); JSON has a list of each. Every value is parsed here; its problems stay on the
item (with its line, or its list and position) for the check to report.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from common.tabular import ImportFileError, Table, normalize_heading
from common.text import noun
from tournaments.importing.fields import (
    BLOCK_FIELDS,
    CSV_COLUMNS,
    CSV_REQUIRED,
    FIELDS_OF,
    LOCATION_FIELDS,
    TOURNAMENT_FIELDS,
    BadValue,
    Parser,
)

Source = str | Path | IO[bytes]


@dataclass
class Item:
    """One tournament, room or time block of the file, its values parsed."""

    kind: str  # "tournament", "location" or "time_block"
    where: str  # "Line 4" or "time_blocks #2"
    values: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    room_key: tuple[str, str] = ("", "")

    def problem(self, message: str) -> None:
        self.errors.append(f"{self.where}: {message}")


def items_read(source: Source, name: str) -> list[Item]:
    """The items of a JSON, CSV or .xlsx file. Raises ImportFileError if it cannot be read."""
    start = _bytes_of(source, limit=64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if name.lower().endswith(".json") or start.startswith((b"{", b"[")):
        try:
            data = json.loads(_bytes_of(source).decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise ImportFileError("The file is not UTF-8 text.") from exc
        except json.JSONDecodeError as exc:
            raise ImportFileError(
                f"this is not valid JSON: {exc.msg} (column {exc.colno}).", line=exc.lineno
            ) from exc
        return _items_from_json(data)
    return _items_from_table(Table(source, name=name))


def _bytes_of(source: Source, *, limit: int = -1) -> bytes:
    if isinstance(source, str | Path):
        with open(source, "rb") as f:
            return f.read(limit)
    source.seek(0)
    return source.read(limit)


def _parse_values(item: Item, raw: dict[str, Any], fields: dict[str, Parser]) -> None:
    for name, value in raw.items():
        try:
            item.values[name] = fields[name](value)
        except BadValue as exc:
            item.problem(f"{name.replace('_', ' ')} {exc}")


_JSON_LISTS = {
    "tournaments": ("tournament", TOURNAMENT_FIELDS),
    "locations": ("location", LOCATION_FIELDS),
    "time_blocks": ("time_block", BLOCK_FIELDS),
}


def _items_from_json(data: Any) -> list[Item]:
    if not isinstance(data, dict):
        raise ImportFileError(
            "The JSON must be an object with “tournaments”, “locations” and “time_blocks”."
        )
    unknown = set(data) - set(_JSON_LISTS)
    if unknown:
        raise ImportFileError(
            f"Unknown {noun(len(unknown), 'key')} {', '.join(sorted(unknown))}: "
            "the JSON may have “tournaments”, "
            "“locations” and “time_blocks”."
        )
    items = []
    for key, (kind, fields) in _JSON_LISTS.items():
        entries = data.get(key, [])
        if not isinstance(entries, list):
            raise ImportFileError(f"“{key}” must be a list.")
        for number, entry in enumerate(entries, start=1):
            item = Item(kind, f"{key} #{number}", {})
            items.append(item)
            if not isinstance(entry, dict):
                item.problem("must be an object with fields")
                continue
            raw = {}
            for name, value in entry.items():
                canonical = normalize_heading(name).replace(" ", "_")
                if canonical not in fields:
                    item.problem(f"unknown field “{name}” (known: {', '.join(fields)})")
                else:
                    raw[canonical] = value
            _parse_values(item, raw, fields)
    return items


def _columns_of(table: Table) -> dict[tuple[str, str], int]:
    """(kind, field) → column index; refuses a header that lacks or repeats a column."""
    columns, ignored = {}, []
    for index, heading in enumerate(table.header):
        target = CSV_COLUMNS.get(normalize_heading(heading))
        if target is None:
            if heading:
                ignored.append(heading)
        elif target in columns:
            raise ImportFileError(f"two columns mean {target[1].replace('_', ' ')}; keep one.")
        else:
            columns[target] = index
    missing = [label for key, label in CSV_REQUIRED.items() if key not in columns]
    if missing:
        raise ImportFileError(
            f"the header has no {', '.join(missing)} {noun(len(missing), 'column')} (found: "
            f"{', '.join(h for h in table.header if h)}).",
            line=table.header_line,
        )
    if ignored:
        raise ImportFileError(
            f"unknown {noun(len(ignored), 'column')} {', '.join(ignored)}; see "
            "`manage.py import_schedule --help`.",
            line=table.header_line,
        )
    return columns


def _items_from_table(table: Table) -> list[Item]:
    columns = _columns_of(table)
    items = []
    for line, cells in table.rows():
        raw: dict[str, dict[str, Any]] = {kind: {} for kind in FIELDS_OF}
        for (kind, name), index in columns.items():
            value = cells[index] if index < len(cells) else None
            if value not in (None, "") or (kind, name) in CSV_REQUIRED:
                raw[kind][name] = "" if value is None else value
        tournament, location, block = (Item(kind, f"Line {line}", {}) for kind in FIELDS_OF)
        for item in (tournament, location, block):
            _parse_values(item, raw[item.kind], FIELDS_OF[item.kind])
        block.values.setdefault("tournament", tournament.values.get("slug", ""))
        block.values["location"] = location.values.get("name", "")
        block.values["building"] = location.values.get("building", "")
        items.extend([tournament, location, block])
    return items
