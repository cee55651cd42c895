"""What an import did (or would do): counts, kept messages, the reject file."""

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from common.tabular import ImportFileError, cell_text
from common.text import plural

# Errors, warnings and changes kept for display; the command streams all of them.
KEEP_AT_MOST = 1000


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
    reject_path: str | None = None
    # Bad rows stopped the import before anything was written (`ImportRowsInvalid`).
    refused: bool = False
    errors: list = field(default_factory=list)
    error_count: int = 0
    warnings: list = field(default_factory=list)
    changes: list = field(default_factory=list)

    def keep(self, items: list, item: Any) -> None:
        """Add `item` to one of the kept lists, up to KEEP_AT_MOST."""
        if len(items) < KEEP_AT_MOST:
            items.append(item)

    @property
    def written(self) -> bool:
        """Whether the counts are what happened, not what would have."""
        return not (self.dry_run or self.refused)

    def summary(self) -> str:
        """One line: "Created 3, updated 1, unchanged 5, rejected 0." ("Would create …" for a
        dry run, or a run that bad rows stopped before it wrote anything)."""
        if self.written:
            text = (
                f"Created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
                f"rejected {self.rejected}"
            )
        else:
            text = (
                f"Would create {self.created}, update {self.updated}; "
                f"{self.unchanged} unchanged, {self.rejected} rejected"
            )
        extras = []
        if self.duplicates:
            extras.append(f"{plural(self.duplicates, 'repeated row')} skipped")
        if self.teams_created:
            verb = "created" if self.written else "would create"
            extras.append(f"{verb} {plural(self.teams_created, 'team')}")
        return text + (f" ({'; '.join(extras)})" if extras else "") + "."


class ImportRowsInvalid(ImportFileError):
    """Some rows are bad and `skip_bad_rows` is off: nothing was written."""

    def __init__(self, result: ParticipantImportResult):
        self.result = result
        result.refused = True
        outcome = "the import would stop" if result.dry_run else "nothing was imported"
        have = "has" if result.error_count == 1 else "have"
        super().__init__(
            f"{plural(result.error_count, 'row')} {have} errors, so {outcome}. Fix them and "
            "import again, or skip the bad rows (they go to a reject file)."
        )


class RejectFile:
    """The bad rows as CSV, opened on first use: the line each came from, its original cells
    and its error. Fixed and imported again, the Line and Error columns are left aside."""

    def __init__(self, path: str | Path | None, header: list[str]):
        self.path = str(path) if path else None
        self.header = header
        self.count = 0
        self._file: IO[str] | None = None
        self._writer: Any = None

    def write(self, line: int, cells: list, message: str) -> None:
        if self.path is None:
            return
        if self._file is None:
            # A byte-order mark so that Excel shows accents right.
            self._file = open(self.path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._file)
            self._writer.writerow(["Line", *self.header, "Error"])
        cells = [cell_text(c) for c in cells]
        cells += [""] * (len(self.header) - len(cells))
        self._writer.writerow([line, *cells, message])
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
