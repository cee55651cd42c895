"""The judges' packet: a tournament's results sheet as a file, in running order, one row per
entry with its entry code, for judges to fill in on paper or in a spreadsheet and hand back
(`results.importing` reads it). Columns a judge fills are the last four; existing results
are filled in, so a sheet exported again and imported unchanged changes nothing."""

import csv
from collections.abc import Iterator
from typing import IO
from uuid import UUID

from common.times import local_clock, local_date, tournament_zone
from results import selectors, services
from tournaments.models import Tournament

HEADINGS = ["tournament", "code", "#", "day", "time", "room", "entrant"]
RESULT_HEADINGS = ["place", "score", "penalties", "notes"]


def packet_rows(*, tournament: Tournament, codes: dict[UUID, str]) -> Iterator[list[str]]:
    """The sheet's rows after the heading: every placeable or placed entry, in running order
    (entries without a slot last), named by its code in `codes` (blank if it has none yet)."""
    for number, entry in enumerate(selectors.results_sheet_entries(tournament=tournament), 1):
        slot, result = entry.slot, getattr(entry, "result", None)
        values = [
            "" if result is None or v is None else str(v)
            for v in (
                (None,) * 4
                if result is None
                else (result.place, result.score, result.penalties, result.notes)
            )
        ]
        with tournament_zone(tournament):  # the day and time as the venue reads them
            day = local_date(slot.starts_at).isoformat() if slot else ""
            clock = local_clock(slot.starts_at) if slot else ""
        yield [
            tournament.slug,
            codes.get(entry.pk, ""),
            str(number),
            day,
            clock,
            slot.location.name if slot else "",
            entry.entrant_name,
            *values,
        ]


def _exported_rows(tournament: Tournament, actor: str) -> Iterator[list[str]]:
    # Exporting is what gives entries their codes: a sheet out is a sheet that can come back.
    codes = services.entry_codes_assign(tournament=tournament, actor=actor)
    return packet_rows(tournament=tournament, codes=codes)


def packet_write_csv(*, tournament: Tournament, out: IO[str], actor: str) -> int:
    """The packet as CSV on `out`; returns the number of entries."""
    writer = csv.writer(out)
    writer.writerow(HEADINGS + RESULT_HEADINGS)
    count = 0
    for count, row in enumerate(_exported_rows(tournament, actor), 1):  # noqa: B007
        writer.writerow(row)
    return count


def packet_write_xlsx(*, tournament: Tournament, out: IO[bytes], actor: str) -> int:
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
    for count, row in enumerate(_exported_rows(tournament, actor), 1):
        sheet.append(row)
        for column in range(first_open, first_open + len(RESULT_HEADINGS)):
            sheet.cell(row=count + 1, column=column).protection = Protection(locked=False)
    sheet.protection.sheet = True
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJK", (18, 11, 5, 11, 7, 14, 30, 7, 8, 10, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    workbook.save(out)
    return count
