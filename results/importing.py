"""Reading a judges' sheet back (the packet of `results.packet`, filled in): the one code path
behind `manage.py import_results` and the admin upload.

Like the participant import: the file is CSV or .xlsx (`common.tabular.Table`), headings
match ignoring case, accents and punctuation, every row is checked first and every error
is collected with its line number; nothing is written if any row is bad (unless
`skip_bad_rows`). The rows that pass go to `results.services.results_record` in one call,
so the placings meet the same rules as on the admin page, all or nothing, and an unchanged
file writes nothing. Only the rows in the file are touched; a row whose place, score,
penalties and notes are all empty removes that entry's result, as clearing it on the page.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from uuid import UUID

from common.tabular import ImportFileError, Table, cell_text, normalize_heading
from common.text import noun, plural
from results import services
from results.checking import Placing
from results.errors import ResultError, ResultsInvalid
from results.models import EntryCode
from results.services import CENT, RecordOutcome
from tournaments.models import Tournament

COLUMNS = {
    "tournament": ("tournament", "tournament slug"),
    "code": ("code", "entry code", "entry"),
    "place": ("place", "placing", "rank"),
    "score": ("score", "mark", "marks"),
    "penalties": ("penalties", "penalty"),
    "notes": ("notes", "judge notes", "comments", "remarks"),
}
REQUIRED = ("code", "place")
_PLACE = re.compile(r"^(\d+)\s*(st|nd|rd|th|\.)?$", re.IGNORECASE)
# Crockford's base32 as typed by people: O is 0, I and L are 1, case and dashes ignored.
_TYPED = str.maketrans("OIL", "011", " -_")


def code_normalize(text: str) -> str:
    raw = text.upper().translate(_TYPED)
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw


@dataclass
class ResultsImport:
    tournament: Tournament
    dry_run: bool
    placings: list[Placing] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lines: dict[UUID, int] = field(default_factory=dict)
    names: dict[UUID, str] = field(default_factory=dict)
    outcome: RecordOutcome | None = None

    @property
    def unchanged(self) -> int:
        return len(self.placings) - (self.outcome.total if self.outcome else 0)

    def changes(self) -> Iterable[tuple[str, str, int]]:
        """(verb, entrant, line) per entry that changes: "Would record" in a dry run."""
        verbs = {
            "create": ("Would record", "Recorded"),
            "change": ("Would change", "Changed"),
            "remove": ("Would remove", "Removed"),
        }
        for rid, action in self.outcome.rows if self.outcome else ():
            yield verbs[action][0 if self.dry_run else 1], self.names[rid], self.lines[rid]

    def summary(self) -> str:
        o = self.outcome or RecordOutcome()
        counts = f"{o.created} new, {o.changed} changed, {o.removed} removed"
        skipped = f"; {plural(len(self.errors), 'bad row')} skipped" if self.errors else ""
        verb = "Would save" if self.dry_run else "Saved"
        return (
            f"{verb} {plural(o.total, 'result')} for {self.tournament.name} ({counts}; "
            f"{self.unchanged} unchanged{skipped})."
        )


class ResultsImportInvalid(ResultError):
    """Rows of the file are bad, or the placings break the rules; nothing was written."""

    def __init__(self, result: ResultsImport):
        self.result = result
        self.message = (
            f"Nothing was imported: {plural(len(result.errors), 'problem')} in the file. "
            "Correct them and import it again."
        )
        super().__init__(self.message)


def _columns(table: Table) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, heading in enumerate(table.header):
        for key, aliases in COLUMNS.items():
            if normalize_heading(heading) in aliases and key not in found:
                found[key] = index
    missing = [key for key in REQUIRED if key not in found]
    if missing:
        raise ImportFileError(
            f"The file needs the {noun(len(missing), 'column')} "
            f"{', '.join(missing)} (the exported judges' sheet has them)."
        )
    return found


def _tournament(table: Table, columns: dict[str, int], given: Tournament | None) -> Tournament:
    if given is not None:
        return given
    if "tournament" in columns:
        index = columns["tournament"]
        for _, cells in table.rows():
            slug = cell_text(cells[index]) if index < len(cells) else ""
            if slug:
                found = Tournament.objects.not_deleted().filter(slug=slug).first()
                if found is None:
                    raise ImportFileError(f"No tournament has the slug “{slug}”.")
                return found
    raise ImportFileError(
        "The file does not say which tournament it is for: it needs a tournament column "
        "(the exported judges' sheet has one)."
    )


def _number(text: str, what: str, *, least: int) -> int | None:
    if not text:
        return None
    match = _PLACE.match(text) if what == "place" else re.match(r"^(\d+)$", text)
    if match is None or int(match.group(1)) < least:
        raise ValueError(f"{what} “{text}” is not a whole number from {least} up.")
    return int(match.group(1))


def _score(text: str) -> Decimal | None:
    if not text:
        return None
    try:
        score = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"score “{text}” is not a number.") from None
    if not score.is_finite() or score != score.quantize(CENT) or abs(score) >= 10**7:
        raise ValueError(f"score “{text}” must be a number with at most two decimals.")
    return score.quantize(CENT)


def results_import(
    *,
    table: Table,
    actor: str,
    tournament: Tournament | None = None,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
) -> ResultsImport:
    """Check every row of a judges' sheet, then record the good ones in one call to
    `results_record` (or only count them with `dry_run`). `ImportFileError` for a file that
    cannot be read; `ResultsImportInvalid` (with every line-numbered error) for bad rows, an
    entry code of another tournament, or placings that break the rules."""
    columns = _columns(table)
    target = _tournament(table, columns, tournament)
    result = ResultsImport(tournament=target, dry_run=dry_run)
    rows = []
    for line, cells in table.rows():
        values = {k: cell_text(cells[i]) if i < len(cells) else "" for k, i in columns.items()}
        rows.append((line, values))
    typed = {code_normalize(values["code"]) for _, values in rows}
    known = {
        c.code: c
        for c in EntryCode.objects.filter(code__in=typed).select_related("registration__tournament")
    }
    seen: dict[str, int] = {}  # code → first line, whether that row was good or not
    for line, values in rows:
        code = code_normalize(values["code"])
        if code in seen:
            result.errors.append(f"Line {line}: entry code {code} is already on line {seen[code]}.")
            continue
        seen[code] = line
        try:
            placing = _row(values, known, target, result)
        except ValueError as exc:
            result.errors.append(f"Line {line}: {exc}")
            continue
        result.placings.append(placing)
        result.lines[placing.registration_id] = line
    if result.errors and not skip_bad_rows:
        raise ResultsImportInvalid(result)
    try:
        result.outcome = services.results_record(
            tournament=target, placings=result.placings, actor=actor, dry_run=dry_run
        )
    except ResultsInvalid as exc:
        result.errors += exc.problems
        raise ResultsImportInvalid(result) from exc
    return result


def _row(values: dict[str, str], known: dict, target: Tournament, result: ResultsImport) -> Placing:
    slug = values.get("tournament", "")
    if slug and slug != target.slug:
        raise ValueError(f"this row is for the tournament “{slug}”, not “{target.slug}”.")
    code = code_normalize(values["code"])
    if not code:
        raise ValueError("the entry code is empty.")
    entry = known.get(code)
    if entry is None:
        raise ValueError(f"no entry has the code “{values['code']}”.")
    registration = entry.registration
    if registration.tournament_id != target.pk:
        raise ValueError(
            f"entry code {code} is an entry of {registration.tournament.name}, not of "
            f"{target.name}."
        )
    result.names[registration.pk] = registration.entrant_name
    return Placing(
        registration.pk,
        place=_number(values["place"], "place", least=1),
        score=_score(values.get("score", "")),
        penalties=_number(values.get("penalties", ""), "penalties", least=0),
        notes=values.get("notes", "").strip(),
    )
