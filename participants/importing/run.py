"""The state that the two passes over one file share."""

import uuid
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from django.db import models

from common.audit import audit_event_build
from common.models import AuditEvent
from common.tabular import Table
from participants.importing.columns import map_columns
from participants.importing.hooks import ImportHooks
from participants.importing.lines import LineIndex
from participants.importing.result import RejectFile
from participants.importing.rows import ParsedRow, RowChange, RowError, row_parse

T = TypeVar("T")


class ImportRun:
    def __init__(
        self,
        *,
        table: Table,
        actor: str,
        dry_run: bool,
        hooks: ImportHooks,
        rejects: RejectFile | None,
        batch_size: int,
        on_progress: Callable[[str, int, int | None], None] | None,
        on_row: Callable[[RowChange], None] | None,
        on_error: Callable[[RowError], None] | None,
    ):
        self.table = table
        self.actor = actor
        self.hooks = hooks
        self.rejects = rejects
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.on_row = on_row
        self.on_error = on_error
        self.columns, warnings = map_columns(table.header)
        warnings += hooks.columns_check(columns=self.columns)
        self.by_school = "school" in self.columns
        self.result = hooks.result_make(dry_run=dry_run, file_name=table.name, warnings=warnings)
        self.index = LineIndex()
        self.total = table.count_hint()
        self.audit = {"import": str(uuid.uuid4()), "file": table.name}
        self.writing = False

    def close(self) -> None:
        self.index.close()
        if self.rejects is not None:
            self.rejects.close()
            self.result.reject_path = self.rejects.path if self.rejects.count else None

    def parsed(self, rows: Iterable[tuple[int, list]]) -> Iterator[ParsedRow]:
        width = len(self.table.header)
        for line, cells in rows:
            row = row_parse(line=line, cells=cells, columns=self.columns, width=width)
            self.hooks.row_check(row=row)
            yield row

    def batches(self, iterable: Iterable[T]) -> Iterator[list[T]]:
        iterator = iter(iterable)
        while batch := list(islice(iterator, self.batch_size)):
            yield batch

    def progress(self, phase: str, done: int) -> None:
        if self.on_progress:
            self.on_progress(phase, done, self.total)

    def reject(self, row: ParsedRow) -> None:
        error = RowError(row.line, "; ".join(row.errors))
        self.result.error_count += 1
        self.result.rejected += 1
        self.result.keep(self.result.errors, error)
        self.index.skip(row.line)
        if self.rejects is not None:
            self.rejects.write(row.line, row.cells, error.message)
        if self.on_error:
            self.on_error(error)

    def count(self, row: ParsedRow, action: str, fields: tuple) -> None:
        counter = {"create": "created", "update": "updated", "unchanged": "unchanged"}[action]
        setattr(self.result, counter, getattr(self.result, counter) + 1)
        change = RowChange(row.line, action, row.full_name, fields)
        self.result.keep(self.result.changes, change)
        # Pass 1 of a real import only checks: its changes are shown as pass 2 makes them.
        if self.on_row and (self.result.dry_run or self.writing):
            self.on_row(change)

    def event(self, action: str, target: models.Model, line: int, **payload: Any) -> AuditEvent:
        return audit_event_build(
            actor=self.actor, action=action, target=target, **payload, line=line, **self.audit
        )
