"""Participant import: the one code path behind `manage.py import_participants` and the admin
upload (`participants/admin/importing.py`).

The file
    CSV (UTF-8 with or without a byte-order mark; comma, semicolon or tab, sniffed from the
    header line; fields may be quoted with double quotes) or an Excel .xlsx workbook (first
    sheet), read by `common.tabular.Table`. The first non-blank row holds the column headings.
    Headings are matched ignoring case, accents, spaces, underscores and hyphens, so "First
    Name", "first_name" and "FIRST-NAME" are the same column; `COLUMNS` lists every column and
    its aliases. Only first name and last name are required; blank rows are skipped.

Matching (upsert)
    By external id, else by name (and school): `matching.py` has the rules. Only the file's
    columns are written; an empty cell clears that field (an external id is never cleared).

Checking, then writing
    Pass 1 (`checking.py`) reads every row, checks it (values, duplicates within the file,
    ambiguous matches) and collects line-numbered errors. If any row is bad nothing is
    written, unless `skip_bad_rows`: then the good rows are imported and the bad ones, with
    their error, go to a reject file. Pass 2 (`writing.py`) reads the file again and writes in
    batches, each one short transaction with bulk inserts and updates and one audit event per
    created or changed participant (bulk-inserted in the same transaction: per-row history at
    little cost). `hooks` let an app above this one join in (registrations registers everyone
    imported: `registrations.importing.participant_import_into_tournament`).

Memory stays flat: rows are streamed twice and never kept beyond a batch; what the whole
file needs to remember (which participant each line touched, which lines were skipped)
lives in a temporary SQLite database that spills to disk (`lines.py`), not in Python objects.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypedDict

from django.db import connection

from common.tabular import ImportFileError, Table
from participants.importing.checking import file_check
from participants.importing.columns import COLUMNS, Column, map_columns
from participants.importing.hooks import ImportHooks, WrittenRow
from participants.importing.result import ImportRowsInvalid, ParticipantImportResult, RejectFile
from participants.importing.rows import ParsedRow, RowChange, RowError
from participants.importing.run import ImportRun
from participants.importing.writing import file_write

__all__ = [
    "BATCH_SIZE",
    "COLUMNS",
    "Column",
    "ImportFileError",
    "ImportHooks",
    "ImportOptions",
    "ImportRowsInvalid",
    "ParsedRow",
    "ParticipantImportResult",
    "RowChange",
    "RowError",
    "WrittenRow",
    "map_columns",
    "participant_import",
]

BATCH_SIZE = 1000


class ImportOptions(TypedDict, total=False):
    """What `participant_import` takes besides the table, the actor and the hooks: for
    functions that wrap it (`**options: Unpack[ImportOptions]`)."""

    dry_run: bool
    skip_bad_rows: bool
    reject_path: str | Path | None
    batch_size: int
    on_progress: Callable[[str, int, int | None], None] | None
    on_row: Callable[[RowChange], None] | None
    on_error: Callable[[RowError], None] | None


def participant_import(
    *,
    table: Table,
    actor: str,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    reject_path: str | Path | None = None,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[str, int, int | None], None] | None = None,
    on_row: Callable[[RowChange], None] | None = None,
    on_error: Callable[[RowError], None] | None = None,
    hooks: ImportHooks | None = None,
) -> ParticipantImportResult:
    """Import (upsert) the participants in `table`; the package docstring has the rules.

    With `dry_run` nothing is written and the result counts what would change.
    `on_progress(phase, rows_done, rows_total_or_None)`, `on_row(RowChange)` and
    `on_error(RowError)` stream what happens (the result keeps only the first 1000 of each).
    `hooks` (an `ImportHooks`) is called at fixed points of the two passes; the result is the
    one it makes.

    Raises ImportFileError for a file that cannot be imported at all and ImportRowsInvalid
    (nothing written) when some rows are bad and `skip_bad_rows` is off.
    """
    run = ImportRun(
        table=table,
        actor=actor,
        dry_run=dry_run,
        hooks=hooks or ImportHooks(),
        rejects=RejectFile(reject_path, table.header) if skip_bad_rows and not dry_run else None,
        batch_size=batch_size,
        on_progress=on_progress,
        on_row=on_row,
        on_error=on_error,
    )
    try:
        with _statements_not_prepared():
            file_check(run)
            if run.result.error_count and not skip_bad_rows:
                raise ImportRowsInvalid(run.result)
            if not dry_run:
                file_write(run)
    finally:
        run.close()
    return run.result


@contextmanager
def _statements_not_prepared() -> Iterator[None]:
    """Send the import's statements unprepared, whatever the connection's default.

    Its batches carry thousands of parameters each; having PostgreSQL prepare them (psycopg's
    `prepare_threshold`, see DATABASE_PREPARED_STATEMENTS) made a 50,000-row import 3.5 times
    slower (bench/RESULTS.md).
    """
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    threshold, raw.prepare_threshold = raw.prepare_threshold, None
    try:
        yield
    finally:
        raw.prepare_threshold = threshold
