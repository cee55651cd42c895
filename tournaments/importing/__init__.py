"""Schedule import: tournaments, rooms and time blocks from CSV, .xlsx or JSON.

The one code path behind `manage.py import_schedule`. It adds and updates, never deletes:
a tournament is found by its slug, a room by its name and building, a time block by its
tournament, room and start time. Everything is checked first (errors carry the line, or
the item for JSON); then the whole schedule is written in one transaction through the
services the admin uses, so a file is imported completely or not at all. A dry run does the
same writes and rolls them back, so it meets every rule the real run meets. Schedules are
small: the file is read into memory. Reading, checking and writing are the modules here.

CSV or .xlsx: one row per time block; a new tournament or room is created from the first
row that names it. Headings are matched like the participant import's (case, spaces, _ and -
do not matter):

    tournament (the slug; required)   tournament name (required for a new one)
    category, entry kind, status, time zone (IANA, e.g. Europe/Paris), max participants,
    changeover minutes, hold minutes, registration opens, registration closes
    (YYYY-MM-DD HH:MM)
    room (required), building, room capacity
    date (YYYY-MM-DD or DD.MM.YYYY), start, end (HH:MM; required)
    slot minutes, slot capacity (default 1), manual (yes/no), notes

JSON: an object with any of three lists; field names as in the models:

    {"tournaments": [{"slug": "piano-junior", "name": "Piano (junior)", "category": "music",
                      "entry_kind": "individual", "status": "published",
                      "time_zone": "Europe/Paris",
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

Times without a UTC offset are local to their tournament: in the time zone the file gives it,
else the one it has in Lineup, else LINEUP_TIME_ZONE for a new one. A time the clocks skip
(02:30 on the night summer time starts) is an error; of the hour lived twice in autumn the
first is taken.
"""

from pathlib import Path

from django.db import IntegrityError, transaction

from common.tabular import ImportFileError
from tournaments.importing.checking import SchedulePlan
from tournaments.importing.reading import Source, items_read
from tournaments.importing.result import ScheduleImportInvalid, ScheduleImportResult
from tournaments.importing.writing import EntryAwareWrites, ScheduleWriter

__all__ = [
    "EntryAwareWrites",
    "ScheduleImportInvalid",
    "ScheduleImportResult",
    "schedule_import",
]


class _RollBack(Exception):
    pass


def schedule_import(
    *,
    source: Source,
    name: str = "",
    actor: str,
    dry_run: bool = False,
    generate_slots: bool = False,
    writes: EntryAwareWrites,
) -> ScheduleImportResult:
    """Add or update the tournaments, rooms and time blocks in `source` (a path or a binary
    file); with `generate_slots`, (re)generate the slots of every time block in the file
    through `writes.time_block_regenerate`.

    Edits of tournaments already in Lineup, their caps and slot generation go through
    `writes` (registrations services whose rules count entries; see `EntryAwareWrites`).

    Raises ImportFileError for a file that cannot be read and ScheduleImportInvalid (nothing
    written) when any item is bad or a schedule rule refuses a change.
    """
    name = name or (Path(source).name if isinstance(source, str | Path) else "upload")
    result = ScheduleImportResult(dry_run=dry_run)
    plan = SchedulePlan(items_read(source, name), result)
    if not result.errors:
        writer = ScheduleWriter(plan, actor=actor, writes=writes)
        try:
            with transaction.atomic():
                writer.apply(generate_slots=generate_slots)
                if result.errors or dry_run:
                    raise _RollBack()  # a dry run meets every rule the real one does, then undoes
        except _RollBack:
            pass
        except IntegrityError as exc:
            raise ImportFileError(
                f"The schedule changed while this file was imported ({exc}); nothing was "
                "written. Run the import again."
            ) from exc
    if result.errors:
        result.sort_errors()
        raise ScheduleImportInvalid(result)
    return result
