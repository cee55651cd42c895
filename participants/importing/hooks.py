"""Where an app above participants joins in an import (registrations registers the people it
imports: registrations/importing.py).

`participant_import` calls each method at a fixed point of its two passes; here they do what
the plain import needs (nothing, mostly). A subclass overrides what it needs and keeps its
own counts on the result it makes. Hooks run outside the batches' transactions and must not
query per row: they get whole batches.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from common.text import noun
from participants.importing.columns import CONTACT_FIELDS
from participants.importing.result import ParticipantImportResult
from participants.importing.rows import ParsedRow
from participants.models import Participant, Team


@dataclass(frozen=True, slots=True)
class WrittenRow:
    """A row whose participant is written and committed, with the row's contact values."""

    line: int
    participant: Participant
    contact: dict[str, str]


class ImportHooks:
    def result_make(self, **fields: Any) -> ParticipantImportResult:
        """The result the import fills in (a subclass may add its own counts)."""
        return ParticipantImportResult(**fields)

    def columns_check(self, *, columns: Mapping[str, int]) -> list[str]:
        """Before any row is read, with the header's field positions: warnings to show.

        May raise ImportFileError to refuse the file before anything is read or written.
        """
        unused = [f.replace("_", " ") for f in CONTACT_FIELDS if f in columns]
        if not unused:
            return []
        return [
            f"{noun(len(unused), 'Column')} {', '.join(unused)} "
            f"{noun(len(unused), 'is', 'are')} only used when registering for a tournament."
        ]

    def row_check(self, *, row: ParsedRow) -> None:
        """After a row is parsed, in both passes: append to `row.errors` what is wrong."""

    def rows_checked(self, *, rows: list[ParsedRow]) -> None:
        """Pass 1, per batch: the good rows (not rejected, not repeats), matched to their
        participant if they have one."""

    def file_checked(self, *, teams: int) -> None:
        """End of pass 1; `teams` is how many teams the good rows name."""

    def rows_written(self, *, rows: list[WrittenRow]) -> None:
        """Pass 2, after each batch has committed: the rows it wrote, in line order."""

    def file_written(self, *, teams: Iterable[tuple[int, Team]]) -> None:
        """End of pass 2: each team the written rows name with its first line, in line order."""
