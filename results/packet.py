"""The judges' packet: a tournament's results sheet as a file, per day and room in running
order, one row per entry with its entry code, for judges to fill in on paper or in a
spreadsheet and hand back (`results.importing` reads it, a room's file alone too). Columns
a judge fills are the last four; existing results are filled in, so a sheet exported again
and imported unchanged changes nothing."""

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO
from uuid import UUID

from django.utils.formats import date_format
from django.utils.text import slugify

from common.times import local_clock, local_date, tournament_zone
from registrations.models import Registration
from results import selectors, services
from tournaments.models import Tournament

HEADINGS = ["tournament", "code", "#", "day", "time", "room", "entrant"]
RESULT_HEADINGS = ["place", "score", "penalties", "notes"]


@dataclass
class PacketSection:
    """One room's entries on one day, in running order: the page or file one judging panel
    works from. Entries without a slot make a last section with no day and no room."""

    day: date | None
    room: str  # the room with its building, if it has one: two buildings may share a name
    rows: list[list[str]] = field(default_factory=list)
    location_id: UUID | None = None

    @property
    def key(self) -> str:
        """Names the section in an address: its day and room's id (names may repeat)."""
        if self.day is None:
            return "no-slot"
        return f"{self.day.isoformat()}_{self.location_id}"

    @property
    def title(self) -> str:
        if self.day is None:
            return "Entries without a slot"
        return f"{date_format(self.day, 'l j F Y')} · {self.room}"

    @property
    def file_stem(self) -> str:
        if self.day is None:
            return "no-slot"
        return f"{self.day.isoformat()}-{slugify(self.room) or 'room'}"


def packet_sections(*, tournament: Tournament, codes: dict[UUID, str]) -> list[PacketSection]:
    """The sheet per day and room (days in order, rooms by building and name), each section
    in running order and numbered from 1; every placeable or placed entry, named by its code
    in `codes` (blank if it has none yet). Days and times as the venue reads them."""
    with tournament_zone(tournament):
        return _sections(tournament, codes)


def _sections(tournament: Tournament, codes: dict[UUID, str]) -> list[PacketSection]:
    entries = list(selectors.results_sheet_entries(tournament=tournament))

    def where(entry: Registration) -> tuple:
        slot = entry.slot
        if slot is None:  # last, in the order they signed up
            return (1, date.max, "", "", 0.0)
        place = slot.location
        return (0, local_date(slot.starts_at), place.building, place.name, slot.starts_at)

    sections: dict[tuple, PacketSection] = {}
    for entry in sorted(entries, key=where):  # stable: same slot keeps sign-up order
        slot, result = entry.slot, getattr(entry, "result", None)
        day = local_date(slot.starts_at) if slot else None
        key = (day, slot.location_id if slot else None)
        if key not in sections:
            sections[key] = PacketSection(
                day, str(slot.location) if slot else "", location_id=key[1]
            )
        section = sections[key]
        values = [
            "" if result is None or v is None else str(v)
            for v in (
                (None,) * 4
                if result is None
                else (result.place, result.score, result.penalties, result.notes)
            )
        ]
        section.rows.append(
            [
                tournament.slug,
                codes.get(entry.pk, ""),
                str(len(section.rows) + 1),
                day.isoformat() if day else "",
                local_clock(slot.starts_at) if slot else "",
                slot.location.name if slot else "",
                entry.entrant_name,
                *values,
            ]
        )
    return list(sections.values())


def packet_sections_export(*, tournament: Tournament, actor: str) -> list[PacketSection]:
    """The sections of a sheet going out. Exporting is what gives entries their codes: a
    sheet out is a sheet that can come back."""
    codes = services.entry_codes_assign(tournament=tournament, actor=actor)
    return packet_sections(tournament=tournament, codes=codes)


def _exported_rows(
    tournament: Tournament, actor: str, sections: list[PacketSection] | None
) -> Iterator[list[str]]:
    if sections is None:
        sections = packet_sections_export(tournament=tournament, actor=actor)
    for section in sections:
        yield from section.rows


def packet_write_csv(
    *,
    tournament: Tournament,
    out: IO[str],
    actor: str,
    sections: list[PacketSection] | None = None,
) -> int:
    """The packet as CSV on `out` (every section, or only `sections`, from
    `packet_sections_export`); returns the number of entries."""
    writer = csv.writer(out)
    writer.writerow(HEADINGS + RESULT_HEADINGS)
    count = 0
    for count, row in enumerate(_exported_rows(tournament, actor, sections), 1):  # noqa: B007
        writer.writerow(row)
    return count


def packet_write_xlsx(
    *,
    tournament: Tournament,
    out: IO[bytes],
    actor: str,
    sections: list[PacketSection] | None = None,
) -> int:
    """The packet as an .xlsx workbook: the sheet is protected except the four columns
    judges fill in, so a heading or a code cannot be typed over by mistake."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, Protection

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = tournament.slug[:31]  # Excel's limit for a sheet name
    sheet.append(HEADINGS + RESULT_HEADINGS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    first_open = len(HEADINGS) + 1
    count = 0
    for count, row in enumerate(_exported_rows(tournament, actor, sections), 1):
        sheet.append(row)
        for column in range(first_open, first_open + len(RESULT_HEADINGS)):
            sheet.cell(row=count + 1, column=column).protection = Protection(locked=False)
    sheet.protection.sheet = True
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJK", (18, 11, 5, 11, 7, 14, 30, 7, 8, 10, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    workbook.save(out)
    return count


def packet_file_name(*, tournament: Tournament, section: PacketSection, kind: str) -> str:
    """A room's file: SLUG-DAY-ROOM.csv (or .xlsx), the same from the command and the admin."""
    return f"{tournament.slug}-{section.file_stem}.{kind}"


def packet_section_file(
    *, tournament: Tournament, section: PacketSection, kind: str, actor: str
) -> bytes:
    """One section as a file of its own (`kind` "csv" or "xlsx"), importable alone. CSV
    starts with a byte-order mark: Excel reads accents right only with one."""
    if kind == "xlsx":
        binary = io.BytesIO()
        packet_write_xlsx(tournament=tournament, out=binary, actor=actor, sections=[section])
        return binary.getvalue()
    text = io.StringIO()
    text.write("\ufeff")
    packet_write_csv(tournament=tournament, out=text, actor=actor, sections=[section])
    return text.getvalue().encode()


def packet_write_zip(
    *, tournament: Tournament, out: IO[bytes], kind: str, sections: list[PacketSection], actor: str
) -> int:
    """Every section as its own file (`packet_file_name`) in one .zip archive; returns the
    number of files."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for section in sections:
            archive.writestr(
                packet_file_name(tournament=tournament, section=section, kind=kind),
                packet_section_file(tournament=tournament, section=section, kind=kind, actor=actor),
            )
    return len(sections)
