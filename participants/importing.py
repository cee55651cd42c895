"""Participant import: the one code path behind `manage.py import_participants` and the admin
upload (`participants/admin/importing.py`).

The file
    CSV (UTF-8 with or without a byte-order mark; comma, semicolon or tab, sniffed from the
    header line; fields may be quoted with double quotes) or an Excel .xlsx workbook (first
    sheet). The first non-blank row holds the column headings. Headings are matched ignoring
    case, accents, spaces, underscores and hyphens, so "First Name", "first_name" and
    "FIRST-NAME" are the same column; `COLUMNS` lists every column and its aliases. Only
    first name and last name are required; blank rows are skipped.

Matching (upsert)
    A row with an external id updates the participant with that id. If nobody has it yet,
    the row takes over a participant with the same name (and school) who has no external id
    (a list imported earlier without ids), or else creates a new participant. A row without
    an external id updates the participant with the same first name, last name and school,
    compared ignoring case and spacing, or creates one; if two participants match, the row
    is an error. School takes part in the match only when the file has a school column.
    Only the file's columns are written; an empty cell clears that field (an external id is
    never cleared). Teams are found by name and school, or created on the fly.

Checking, then writing
    Pass 1 reads every row, checks it (values, duplicates within the file, ambiguous
    matches) and collects line-numbered errors. If any row is bad nothing is written, unless
    `skip_bad_rows`: then the good rows are imported and the bad ones, with their error,
    go to a reject file. Pass 2 reads the file again and writes in batches, each one short
    transaction with bulk inserts and updates and one audit event per created or changed
    participant (bulk-inserted in the same transaction: per-row history at little cost).
    Registrations for `tournament` go through the engine (`registration_create`), one short
    transaction each, after their batch has committed.

Memory stays flat: rows are streamed twice and never kept beyond a batch; what the whole
file needs to remember (which participant each line touched, which lines were skipped)
lives in a temporary SQLite database that spills to disk, not in Python objects.
"""

import csv
import hashlib
import re
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from common.audit import audit_event_build, audit_events_record
from common.locking import Busy
from common.tabular import ImportFileError, Table, cell_text, normalize_heading
from participants.models import Participant, Team
from registrations.errors import AlreadyRegistered, RegistrationError
from registrations.models import Registration
from registrations.selectors import tournament_places_taken
from registrations.services import registration_create
from tournaments.models import Tournament

BATCH_SIZE = 1000
# Errors, warnings and changes kept for display; the command streams all of them.
KEEP_AT_MOST = 1000


class ImportRowsInvalid(ImportFileError):
    """Some rows are bad and `skip_bad_rows` is off: nothing was written."""

    def __init__(self, result):
        self.result = result
        outcome = "the import would stop" if result.dry_run else "nothing was imported"
        super().__init__(
            f"{result.error_count} row(s) have errors, so {outcome}. Fix them and import "
            "again, or skip the bad rows (they go to a reject file)."
        )


# --- columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    aliases: tuple[str, ...]
    required: bool = False
    help: str = ""


COLUMNS = (
    Column(
        "external_id",
        "External ID",
        ("external id", "id", "participant id", "student id", "member id", "ext id"),
        help="Identifier in the system the list comes from; the key for updates.",
    ),
    Column(
        "first_name",
        "First name",
        ("first name", "firstname", "first", "given name", "forename"),
        required=True,
    ),
    Column(
        "last_name",
        "Last name",
        ("last name", "lastname", "last", "surname", "family name"),
        required=True,
    ),
    Column(
        "display_name",
        "Display name",
        ("display name", "stage name", "preferred name", "nickname"),
    ),
    Column("birth_year", "Birth year", ("birth year", "year of birth", "born", "yob")),
    Column(
        "birth_date",
        "Birth date",
        ("birth date", "date of birth", "birthdate", "dob", "birthday"),
        help="YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY; only the year is stored.",
    ),
    Column("grade", "Grade", ("grade", "class", "year group", "form")),
    Column("school", "School", ("school", "school name", "institution")),
    Column("team", "Team", ("team", "team name"), help="Created if it does not exist yet."),
    Column("coach_name", "Coach name", ("coach", "coach name"), help="For new teams."),
    Column("coach_email", "Coach e-mail", ("coach email", "coach e mail"), help="For new teams."),
    Column("coach_phone", "Coach phone", ("coach phone", "coach telephone"), help="For new teams."),
    Column(
        "contact_name",
        "Contact name",
        ("contact", "contact name", "parent", "parent name", "guardian"),
        help="Registration contact (with a tournament).",
    ),
    Column(
        "contact_email",
        "Contact e-mail",
        ("contact email", "email", "e mail", "parent email"),
        help="Registration contact (with a tournament).",
    ),
    Column(
        "contact_phone",
        "Contact phone",
        ("contact phone", "phone", "telephone", "mobile", "parent phone"),
        help="Registration contact (with a tournament).",
    ),
)
_BY_ALIAS = {alias: column for column in COLUMNS for alias in column.aliases}
_CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")
_TEXT_LIMITS = {
    **{
        name: Participant._meta.get_field(name).max_length
        for name in ("external_id", "first_name", "last_name", "display_name", "grade", "school")
    },
    "team": Team._meta.get_field("name").max_length,
    "coach_name": Team._meta.get_field("coach_name").max_length,
    "coach_phone": Team._meta.get_field("coach_phone").max_length,
    "contact_name": Registration._meta.get_field("contact_name").max_length,
    "contact_phone": Registration._meta.get_field("contact_phone").max_length,
}


def map_columns(header) -> tuple[dict[str, int], list[str]]:
    """Column positions by field name, and warnings about headings that were not used.

    Raises ImportFileError for a heading used twice or a missing required column.
    """
    positions, labels, ignored = {}, {}, []
    for index, heading in enumerate(header):
        if not heading:
            continue
        column = _BY_ALIAS.get(normalize_heading(heading))
        if column is None:
            ignored.append(heading)
        elif column.field in positions:
            raise ImportFileError(
                f"the columns “{labels[column.field]}” and “{heading}” both mean "
                f"{column.label.lower()}; keep one of them.",
                line=None,
            )
        else:
            positions[column.field] = index
            labels[column.field] = heading
    missing = [c.label.lower() for c in COLUMNS if c.required and c.field not in positions]
    if missing:
        raise ImportFileError(
            f"the header has no {' and no '.join(missing)} column (found: "
            f"{', '.join(h for h in header if h) or 'nothing'})."
        )
    warnings = []
    if ignored:
        warnings.append(f"Ignored column(s) this import does not know: {', '.join(ignored)}.")
    return positions, warnings


# --- checking one row ------------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d-%m-%Y")


def _parse_date(value) -> date | None:
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


def _plausible_year(year) -> bool:
    return 1900 <= year <= timezone.now().year


def name_key(first, last, school=None) -> str:
    """What two rows (or a row and a participant) must share to be the same person."""
    parts = [first, last] if school is None else [first, last, school]
    return "\x1f".join(" ".join((p or "").split()).lower() for p in parts)


def _team_key(name, school) -> str:
    return name_key(name, "", school)


@dataclass(slots=True)
class ParsedRow:
    line: int
    cells: list
    values: dict
    errors: list = field(default_factory=list)
    participant: Participant | None = None
    skipped: bool = False

    @property
    def external_id(self):
        return self.values.get("external_id") or None

    @property
    def full_name(self):
        return f"{self.values['first_name']} {self.values['last_name']}".strip()


def _parse_row(line, cells, columns, *, width, team_required) -> ParsedRow:
    """Clean one row's cells into field values, collecting what is wrong with them."""
    values, errors = {}, []
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
    for name, limit in _TEXT_LIMITS.items():
        if len(values.get(name) or "") > limit:
            errors.append(f"{name.replace('_', ' ')} is longer than {limit} characters")

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

    for name in ("coach_email", "contact_email"):
        if values.get(name):
            try:
                validate_email(values[name])
            except ValidationError:
                errors.append(f"{name.replace('_', ' ')} “{values[name]}” is not an e-mail address")
    if team_required and not values.get("team"):
        errors.append("the tournament is a team event, so every row needs a team")
    return ParsedRow(line=line, cells=cells, values=values, errors=errors)


# --- what the import did ---------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self):
        return f"Line {self.line}: {self.message}"


@dataclass(frozen=True)
class RowChange:
    line: int
    action: str  # "create", "update" or "unchanged"
    name: str
    fields: tuple = ()


@dataclass
class ParticipantImportResult:
    dry_run: bool
    file_name: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    duplicates: int = 0
    teams_created: int = 0
    registered: int = 0
    already_registered: int = 0
    not_registered: int = 0
    places_left: int | None = None
    reject_path: str | None = None
    errors: list = field(default_factory=list)
    error_count: int = 0
    registration_errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    changes: list = field(default_factory=list)

    def _keep(self, items, item):
        if len(items) < KEEP_AT_MOST:
            items.append(item)

    def summary(self) -> str:
        """One line: "Created 3, updated 1, unchanged 5, rejected 0." (or "Would create …")."""
        if self.dry_run:
            text = (
                f"Would create {self.created}, update {self.updated}; "
                f"{self.unchanged} unchanged, {self.rejected} rejected"
            )
        else:
            text = (
                f"Created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
                f"rejected {self.rejected}"
            )
        extras = []
        if self.duplicates:
            extras.append(f"{self.duplicates} repeated row(s) skipped")
        if self.teams_created:
            extras.append(
                f"{'would create' if self.dry_run else 'created'} {self.teams_created} team(s)"
            )
        return text + (f" ({'; '.join(extras)})" if extras else "") + "."


# --- remembering lines across the file, off the heap -----------------------------------------


class _LineIndex:
    """Facts about lines that the whole file needs, in a private temporary SQLite database.

    SQLite keeps a temporary database in a small page cache and spills it to a file, so a
    million-row import costs disk, not memory.
    """

    def __init__(self):
        self.db = sqlite3.connect("")
        self.db.executescript(
            """
            PRAGMA cache_size = -4000;
            CREATE TABLE claims (key TEXT PRIMARY KEY, line INTEGER, digest TEXT) WITHOUT ROWID;
            CREATE TABLE skipped (line INTEGER PRIMARY KEY);
            CREATE TABLE teams (team_id TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID;
            """
        )

    def close(self):
        self.db.close()

    def claim(self, key, line, digest=""):
        """Record that `line` touches `key`; returns (line, digest) of an earlier claim."""
        if self.db.execute(
            "INSERT OR IGNORE INTO claims VALUES (?, ?, ?)", (key, line, digest)
        ).rowcount:
            return None
        return self.db.execute("SELECT line, digest FROM claims WHERE key = ?", (key,)).fetchone()

    def claimed(self, key):
        found = self.db.execute("SELECT line FROM claims WHERE key = ?", (key,)).fetchone()
        return found[0] if found else None

    def skip(self, line):
        self.db.execute("INSERT OR IGNORE INTO skipped VALUES (?)", (line,))

    def skipped_between(self, first, last) -> set[int]:
        rows = self.db.execute(
            "SELECT line FROM skipped WHERE line BETWEEN ? AND ?", (first, last)
        ).fetchall()
        return {line for (line,) in rows}

    def team(self, team_id, line):
        self.db.execute("INSERT OR IGNORE INTO teams VALUES (?, ?)", (str(team_id), line))

    def teams(self):
        return self.db.execute("SELECT team_id, line FROM teams ORDER BY line").fetchall()

    def count_teams(self):
        return self.db.execute("SELECT count(*) FROM teams").fetchone()[0]


# --- matching rows to participants and teams -------------------------------------------------


class _Teams:
    """Team ids by name and school, looked up per batch and remembered (bounded)."""

    NEW = "new"

    def __init__(self, *, by_school):
        self.by_school = by_school
        self.known = {}

    def key(self, row):
        school = row.values.get("school", "") if self.by_school else None
        return _team_key(row.values["team"], school)

    def look_up(self, rows):
        wanted = {self.key(r): r for r in rows if r.values.get("team")}
        missing = {k for k in wanted if k not in self.known}
        if len(self.known) > 20_000:
            self.known.clear()  # a bound, not a correctness matter: it refills from the DB
        if missing:
            names = {wanted[k].values["team"].lower() for k in missing}
            found = (
                Team.objects.annotate(lower_name=Lower("name"))
                .filter(lower_name__in=names)
                .order_by("created_at")
                .values_list("pk", "name", "school")
            )
            for pk, name, school in found:
                key = _team_key(name, school if self.by_school else None)
                if key in missing:
                    self.known.setdefault(key, pk)
        return {k: self.known.get(k, self.NEW) for k in wanted}


def _namesakes(rows, *, by_school, without_id):
    """Participants with the first and last name (and school) of `rows`, by `name_key`."""
    if not rows:
        return {}
    candidates = Participant.objects.annotate(
        lower_first=Lower("first_name"), lower_last=Lower("last_name")
    ).filter(
        lower_last__in={r.values["last_name"].lower() for r in rows},
        lower_first__in={r.values["first_name"].lower() for r in rows},
    )
    if without_id:
        candidates = candidates.filter(external_id__isnull=True)
    found = {}
    for person in candidates.order_by("created_at"):
        school = person.school if by_school else None
        found.setdefault(name_key(person.first_name, person.last_name, school), []).append(person)
    return found


def _match(rows, *, by_school):
    """Find each row's existing participant (or an error when the match is ambiguous)."""
    rows = [r for r in rows if not r.errors]
    ext_ids = {r.external_id for r in rows if r.external_id}
    by_ext = {p.external_id: p for p in Participant.objects.filter(external_id__in=ext_ids)}
    # A row with an id that nobody has yet may take over a namesake who has no id at all.
    new_ids = [r for r in rows if r.external_id and r.external_id not in by_ext]
    no_ids = [r for r in rows if not r.external_id]
    namesakes = {
        True: _namesakes(new_ids, by_school=by_school, without_id=True),
        False: _namesakes(no_ids, by_school=by_school, without_id=False),
    }
    for row in rows:
        if row.external_id in by_ext:
            row.participant = by_ext[row.external_id]
            continue
        school = row.values.get("school", "") if by_school else None
        key = name_key(row.values["first_name"], row.values["last_name"], school)
        found = namesakes[bool(row.external_id)].get(key, ())
        if len(found) > 1:
            where = " at that school" if by_school else ""
            row.errors.append(
                f"{len(found)} participants are called {row.full_name}{where}; add an external "
                "id to say which one"
            )
        elif found:
            row.participant = found[0]


def _digest(values) -> str:
    return hashlib.blake2b(repr(sorted(values.items())).encode(), digest_size=8).hexdigest()


_PARTICIPANT_FIELDS = ("first_name", "last_name", "display_name", "birth_year", "grade", "school")


def _wanted_fields(row, team_id) -> dict:
    """The participant fields this row sets: only the file's columns."""
    wanted = {name: row.values[name] for name in _PARTICIPANT_FIELDS if name in row.values}
    if row.external_id:
        wanted["external_id"] = row.external_id
    if "team" in row.values:
        wanted["team_id"] = team_id if row.values["team"] else None
    return wanted


def _plan(row, wanted) -> tuple[str, tuple]:
    """("create" | "update" | "unchanged", the fields that change) for one row."""
    if row.participant is None:
        return "create", ()
    changed = tuple(
        name for name, value in wanted.items() if getattr(row.participant, name) != value
    )
    return ("update" if changed else "unchanged"), changed


class _RejectFile:
    """The bad rows as CSV (their original cells plus an error column), opened on first use."""

    def __init__(self, path, header):
        self.path = str(path) if path else None
        self.header = header
        self.count = 0
        self._file = self._writer = None

    def write(self, cells, message):
        if self.path is None:
            return
        if self._file is None:
            # A byte-order mark so that Excel shows accents right.
            self._file = open(self.path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._file)
            self._writer.writerow([*self.header, "Error"])
        cells = [cell_text(c) for c in cells]
        cells += [""] * (len(self.header) - len(cells))
        self._writer.writerow([*cells, message])
        self.count += 1

    def close(self):
        if self._file is not None:
            self._file.close()


# --- the import ------------------------------------------------------------------------------


def participant_import(
    *,
    table: Table,
    actor: str,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    tournament: Tournament | None = None,
    reject_path: str | Path | None = None,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[str, int, int | None], None] | None = None,
    on_row: Callable[[RowChange], None] | None = None,
    on_error: Callable[[RowError], None] | None = None,
) -> ParticipantImportResult:
    """Import (upsert) the participants in `table`; the module docstring has the rules.

    With `dry_run` nothing is written and the result counts what would change. With
    `tournament` everyone imported is also registered through `registration_create`: its
    sign-up window, capacity and rules apply, and a refusal is reported for that line, not
    fatal. `on_progress(phase, rows_done, rows_total_or_None)`, `on_row(RowChange)` and
    `on_error(RowError)` stream what happens (the result keeps only the first 1000 of each).

    Raises ImportFileError for a file that cannot be imported at all and ImportRowsInvalid
    (nothing written) when some rows are bad and `skip_bad_rows` is off.
    """
    run = _ImportRun(
        table=table,
        actor=actor,
        dry_run=dry_run,
        tournament=tournament,
        rejects=_RejectFile(reject_path, table.header) if skip_bad_rows and not dry_run else None,
        batch_size=batch_size,
        on_progress=on_progress,
        on_row=on_row,
        on_error=on_error,
    )
    try:
        with _statements_not_prepared():
            run.check()
            if run.result.error_count and not skip_bad_rows:
                raise ImportRowsInvalid(run.result)
            if not dry_run:
                run.write()
    finally:
        run.close()
    return run.result


@contextmanager
def _statements_not_prepared():
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


class _ImportRun:
    """State shared by the two passes over one file."""

    def __init__(self, *, table, actor, dry_run, tournament, rejects, batch_size, **callbacks):
        self.table = table
        self.actor = actor
        self.tournament = tournament
        self.team_event = bool(tournament and tournament.is_team_event)
        self.rejects = rejects
        self.batch_size = batch_size
        self.on_progress = callbacks["on_progress"]
        self.on_row = callbacks["on_row"]
        self.on_error = callbacks["on_error"]
        self.columns, warnings = map_columns(table.header)
        if tournament is not None:
            self._check_tournament()
        else:
            unused = [f.replace("_", " ") for f in _CONTACT_FIELDS if f in self.columns]
            if unused:
                warnings.append(
                    f"Column(s) {', '.join(unused)} are only used when registering for a "
                    "tournament."
                )
        self.by_school = "school" in self.columns
        self.result = ParticipantImportResult(
            dry_run=dry_run, file_name=table.name, warnings=warnings
        )
        self.index = _LineIndex()
        self.total = table.count_hint()
        self.audit = {"import": str(uuid.uuid4()), "file": table.name}
        self.writing = False

    def close(self):
        self.index.close()
        if self.rejects is not None:
            self.rejects.close()
            self.result.reject_path = self.rejects.path if self.rejects.count else None

    def _check_tournament(self):
        tournament = self.tournament
        if not tournament.registration_is_open():
            raise ImportFileError(
                f"Sign-up for {tournament.name} is not open (it is "
                f"{tournament.get_status_display().lower()}, or outside its sign-up window), so "
                "nobody could be registered; nothing was imported."
            )
        if self.team_event and "team" not in self.columns:
            raise ImportFileError(
                f"{tournament.name} is a team event: the file needs a team column so that "
                "teams can be registered."
            )

    def _parsed(self, rows):
        width = len(self.table.header)
        for line, cells in rows:
            yield _parse_row(line, cells, self.columns, width=width, team_required=self.team_event)

    def _batches(self, iterable):
        iterator = iter(iterable)
        while batch := list(islice(iterator, self.batch_size)):
            yield batch

    def _progress(self, phase, done):
        if self.on_progress:
            self.on_progress(phase, done, self.total)

    # -- pass 1 --------------------------------------------------------------------------------

    def check(self):
        """Read every row, match it, find repeats and errors; count what would change."""
        teams = _Teams(by_school=self.by_school)
        done = 0
        for batch in self._batches(self._parsed(self.table.rows())):
            _match(batch, by_school=self.by_school)
            team_ids = teams.look_up([r for r in batch if not r.errors])
            for row in batch:
                self._check_row(row, teams, team_ids)
            if self.tournament is not None and self.result.dry_run:
                self._count_planned_registrations(batch)
            done += len(batch)
            self._progress("check", done)
        self.result.rows = done
        if self.result.dry_run:
            if self.team_event:
                self.result.registered = self.index.count_teams()
            self._count_places_left()

    def _check_row(self, row, teams, team_ids):
        if not row.errors:
            first_line = self._check_repeats(row)
            if first_line is not None:
                row.skipped = True
                self.result.duplicates += 1
                self.index.skip(row.line)
                self.result._keep(
                    self.result.warnings, f"Line {row.line} repeats line {first_line}; skipped."
                )
                return
        if row.errors:
            self._reject(row)
            return
        team_id = None
        if row.values.get("team"):
            key = teams.key(row)
            team_id = team_ids[key]
            if team_id == _Teams.NEW:
                if self.index.claim(f"t:{key}", row.line) is None:
                    self.result.teams_created += 1
                team_id = f"new:{key}"
            self.index.team(team_id, row.line)
        action, fields = _plan(row, _wanted_fields(row, team_id))
        self._count(row, action, fields)

    def _check_repeats(self, row):
        """Duplicates within the file: an exact repeat returns the line it repeats (it is
        skipped); a conflicting one becomes an error on this row."""
        names = name_key(
            row.values["first_name"],
            row.values["last_name"],
            row.values.get("school", "") if self.by_school else None,
        )
        if row.participant is not None:
            key = f"p:{row.participant.pk}"
        elif row.external_id:
            key = f"x:{row.external_id}"
        else:
            key = f"n:{names}"
        digest = _digest(row.values)
        earlier = self.index.claim(key, row.line, digest)
        if earlier is not None:
            first_line, first_digest = earlier
            if first_digest == digest:
                return first_line
            who = f"external id “{row.external_id}”" if row.external_id else row.full_name
            row.errors.append(
                f"{who} is already on line {first_line}, with different values; keep one of "
                "the two rows"
            )
            return None
        # The same name once with an external id and once without: in pass 2 one row could
        # update the participant the other one creates, so say so now.
        if row.external_id:
            other = self.index.claimed(f"n:{names}")
            self.index.claim(f"e:{names}", row.line)
        else:
            other = self.index.claimed(f"e:{names}")
        if other is not None and other != row.line:
            row.errors.append(
                f"{row.full_name} is also on line {other}, once with and once without an "
                "external id; give both rows the id or remove one"
            )
        return None

    def _count_planned_registrations(self, batch):
        if self.team_event:
            return
        good = [r for r in batch if not r.errors and not r.skipped]
        matched = [r.participant.pk for r in good if r.participant is not None]
        already = (
            Registration.objects.active()
            .filter(tournament=self.tournament, participant_id__in=matched)
            .count()
        )
        self.result.already_registered += already
        self.result.registered += len(good) - already

    def _count_places_left(self):
        tournament = self.tournament
        if tournament is None or tournament.max_participants is None:
            return
        taken = tournament_places_taken(tournament_id=tournament.pk)
        self.result.places_left = max(tournament.max_participants - taken, 0)

    def _reject(self, row):
        error = RowError(row.line, "; ".join(row.errors))
        self.result.error_count += 1
        self.result.rejected += 1
        self.result._keep(self.result.errors, error)
        self.index.skip(row.line)
        if self.rejects is not None:
            self.rejects.write(row.cells, error.message)
        if self.on_error:
            self.on_error(error)

    def _count(self, row, action, fields):
        counter = {"create": "created", "update": "updated", "unchanged": "unchanged"}[action]
        setattr(self.result, counter, getattr(self.result, counter) + 1)
        change = RowChange(row.line, action, row.full_name, fields)
        self.result._keep(self.result.changes, change)
        if self.on_row and (self.result.dry_run or self.writing):
            self.on_row(change)

    # -- pass 2 --------------------------------------------------------------------------------

    def write(self):
        """Read the file again and write it in batches, one short transaction each."""
        result = self.result
        result.created = result.updated = result.unchanged = result.teams_created = 0
        result.changes = []
        self.writing = True
        self.index.db.execute("DELETE FROM teams")
        teams = _Teams(by_school=self.by_school)
        done = 0
        for raw in self._batches(self.table.rows()):
            skipped = self.index.skipped_between(raw[0][0], raw[-1][0])
            batch = list(self._parsed((line, cells) for line, cells in raw if line not in skipped))
            if batch:
                try:
                    with transaction.atomic():
                        written = self._write_batch(batch, teams)
                except IntegrityError as exc:
                    raise ImportFileError(
                        f"the participant list changed while this import ran ({exc}). The rows "
                        "before this line were imported; run the import again to finish (it "
                        "only changes what still differs).",
                        line=batch[0].line,
                    ) from exc
                if self.tournament is not None and not self.team_event:
                    for row, participant in written:
                        self._register(row.line, participant=participant, row=row)
            done += len(raw)
            self._progress("write", done)
        if self.tournament is not None and self.team_event:
            for team_id, line in self.index.teams():
                self._register(line, team=Team.objects.get(pk=team_id))

    def _write_batch(self, batch, teams):
        """Teams first, then bulk creates and updates, with their audit events."""
        _match(batch, by_school=self.by_school)
        for row in batch:
            if row.errors:  # the list changed since pass 1 (a new namesake, say)
                self._reject(row)
        good = [r for r in batch if not r.errors]
        team_ids = self._create_teams(good, teams)
        now = timezone.now()
        to_create, to_update, changed, events, written = [], [], set(), [], []
        for row in good:
            team_id = team_ids[teams.key(row)] if row.values.get("team") else None
            if team_id is not None:
                self.index.team(team_id, row.line)
            wanted = _wanted_fields(row, team_id)
            action, fields = _plan(row, wanted)
            if action == "create":
                person = Participant(**wanted)
                person.search_name = person.folded_search_name()
                to_create.append(person)
                events.append(
                    self._event("participant.create", person, row.line, name=row.full_name)
                )
            elif action == "update":
                person = row.participant
                for name in fields:
                    setattr(person, name, wanted[name])
                person.search_name = person.folded_search_name()
                person.updated_at = now
                to_update.append(person)
                changed.update(fields)
                events.append(
                    self._event("participant.update", person, row.line, changed=sorted(fields))
                )
            else:
                person = row.participant
            self._count(row, action, fields)
            written.append((row, person))
        Participant.objects.bulk_create(to_create)
        if to_update:
            Participant.objects.bulk_update(
                to_update, sorted(changed | {"search_name", "updated_at"})
            )
        audit_events_record(events)
        return written

    def _create_teams(self, rows, teams):
        ids = teams.look_up(rows)
        new, lines = {}, {}
        for row in rows:
            if not row.values.get("team"):
                continue
            key = teams.key(row)
            if ids[key] == _Teams.NEW and key not in new:
                new[key] = Team(
                    name=row.values["team"],
                    school=row.values.get("school", ""),
                    coach_name=row.values.get("coach_name", ""),
                    coach_email=row.values.get("coach_email", ""),
                    coach_phone=row.values.get("coach_phone", ""),
                )
                lines[key] = row.line
        if new:
            Team.objects.bulk_create(new.values())
            audit_events_record(
                self._event("team.create", team, lines[key], name=team.name)
                for key, team in new.items()
            )
            self.result.teams_created += len(new)
            for key, team in new.items():
                teams.known[key] = ids[key] = team.pk
        return ids

    def _event(self, action, target, line, **payload):
        return audit_event_build(
            actor=self.actor, action=action, target=target, **payload, line=line, **self.audit
        )

    def _register(self, line, *, participant=None, row=None, team=None):
        if team is not None:
            contact = {
                "contact_name": team.coach_name,
                "contact_email": team.coach_email,
                "contact_phone": team.coach_phone,
            }
        else:
            contact = {f: row.values.get(f, "") for f in _CONTACT_FIELDS}
        try:
            registration_create(
                tournament=self.tournament,
                participant=participant,
                team=team,
                actor=self.actor,
                **contact,
            )
        except AlreadyRegistered:
            self.result.already_registered += 1
        except (RegistrationError, Busy) as exc:
            self.result.not_registered += 1
            who = team.name if team is not None else participant.full_name
            error = RowError(line, f"{who} was imported but not registered: {exc.message}")
            self.result._keep(self.result.registration_errors, error)
            if self.on_error:
                self.on_error(error)
        else:
            self.result.registered += 1
