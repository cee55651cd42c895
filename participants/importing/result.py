"""What an import did (or would do): counts, kept messages, the reject file."""

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from common.tabular import ImportFileError, cell_text

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
    errors: list = field(default_factory=list)
    error_count: int = 0
    warnings: list = field(default_factory=list)
    changes: list = field(default_factory=list)

    def keep(self, items: list, item: Any) -> None:
        """Add `item` to one of the kept lists, up to KEEP_AT_MOST."""
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


class ImportRowsInvalid(ImportFileError):
    """Some rows are bad and `skip_bad_rows` is off: nothing was written."""

    def __init__(self, result: ParticipantImportResult):
        self.result = result
        outcome = "the import would stop" if result.dry_run else "nothing was imported"
        super().__init__(
            f"{result.error_count} row(s) have errors, so {outcome}. Fix them and import "
            "again, or skip the bad rows (they go to a reject file)."
        )


class RejectFile:
    """The bad rows as CSV (their original cells plus an error column), opened on first use."""

    def __init__(self, path: str | Path | None, header: list[str]):
        self.path = str(path) if path else None
        self.header = header
        self.count = 0
        self._file: IO[str] | None = None
        self._writer: Any = None

    def write(self, cells: list, message: str) -> None:
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

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
