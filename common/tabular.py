"""Reading an import file: CSV (UTF-8 with or without a byte-order mark; comma, semicolon or
tab, sniffed from the header line; quoted fields) or the first sheet of an .xlsx workbook.
Shared by the participant and the schedule imports."""

import codecs
import csv
import re
import tempfile
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import date, datetime
from itertools import chain
from pathlib import Path
from zipfile import BadZipFile

from common.errors import LineupError
from common.text import fold


class ImportFileError(LineupError):
    """The file as a whole cannot be imported; `message` says why (with `line` if known)."""

    def __init__(self, message, *, line=None):
        self.line = line
        self.message = f"Line {line}: {message}" if line else message
        super().__init__(self.message)


def normalize_heading(text) -> str:
    """ "First_Name *" → "first name": how headings are compared."""
    return fold(re.sub(r"[\s_\-./:*()]+", " ", str(text or "")))


def cell_text(value) -> str:
    """A cell as text: spreadsheets give numbers and dates, CSV gives strings."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


def _sniff_delimiter(line: str) -> str:
    """The separator the header line uses most: comma, semicolon or tab."""
    outside_quotes = re.sub(r'"[^"]*"', "", line)
    counts = {d: outside_quotes.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class Table:
    """A CSV file or the first sheet of an .xlsx workbook, read row by row.

    `source` is a path or a seekable binary file; `rows()` can be iterated more than once
    (each time from the start). The header is read when the table is opened.
    """

    def __init__(self, source, *, name=""):
        self._source = source
        self.name = name or (Path(source).name if isinstance(source, str | Path) else "upload")
        with self._binary() as f:
            start = f.read(8)
        if start.startswith(b"PK\x03\x04"):
            self.kind = "xlsx"
        elif start.startswith(b"\xd0\xcf\x11\xe0"):
            raise ImportFileError(
                "This is an old Excel .xls file. Save it as .xlsx or as CSV UTF-8 and try again."
            )
        else:
            self.kind = "csv"
        self.delimiter, self._sniffed, self._spool = ",", False, None
        self.header_line, self.header = self._read_header()

    def _binary(self):
        if isinstance(self._source, str | Path):
            return open(self._source, "rb")
        self._source.seek(0)
        return nullcontext(self._source)  # a file we were given: its owner closes it

    def _read_header(self):
        for line, cells in self._csv_rows() if self.kind == "csv" else self._xlsx_rows():
            if any(cell_text(c) for c in cells):
                return line, [cell_text(c) for c in cells]
        raise ImportFileError("The file is empty: it needs a header row with column names.")

    def rows(self) -> Iterator[tuple[int, list]]:
        """(line number, cells) for every non-blank row after the header; the blank ones
        are kept as runs of lines in `blank_lines` (first, last), for `blank_lines_report`."""
        self.blank_lines: list[tuple[int, int]] = []
        for line, cells in self._all_rows():
            if line <= self.header_line:
                continue
            if not any(cell_text(c) for c in cells):
                runs = self.blank_lines
                if runs and runs[-1][1] == line - 1:
                    runs[-1] = (runs[-1][0], line)
                else:
                    runs.append((line, line))
                continue
            if any("\x00" in c for c in cells if isinstance(c, str)):
                # No database text column can hold it: a binary file or a broken export.
                raise ImportFileError(
                    "this line holds a NUL character (is it a text file?). Save the file "
                    "as CSV UTF-8 or .xlsx and try again.",
                    line=line,
                )
            yield line, cells

    def blank_lines_report(self) -> list[str]:
        """ "Line 4 is empty; skipped.", "Lines 42 to 43 …" (with an en dash) after `rows()`."""
        return [
            f"Line {first} is empty; skipped."
            if first == last
            else f"Lines {first}\u2013{last} are empty; skipped."
            for first, last in getattr(self, "blank_lines", [])
        ]

    def count_hint(self) -> int | None:
        """Roughly how many data rows there are (for a progress bar), or None."""
        if self.kind == "xlsx":
            return None
        lines, last = 0, b"\n"
        with self._binary() as f:
            while chunk := f.read(1 << 20):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        if last != b"\n":
            lines += 1  # the last line has no line break
        return max(lines - self.header_line, 0)

    def _all_rows(self):
        if self.kind == "csv":
            yield from self._csv_rows()
        else:
            yield from self._spooled_rows()

    def _spooled_rows(self):
        """The sheet's rows from a temporary CSV written on the first full read: openpyxl
        parses a sheet several times slower than the csv module, so it does it once."""
        if self._spool is None:
            spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115
            writer = csv.writer(spool)
            for line, values in self._xlsx_rows():
                if any(v not in (None, "") for v in values):
                    writer.writerow([line, *(cell_text(v) for v in values)])
            self._spool = spool
        self._spool.seek(0)
        for line, *cells in csv.reader(self._spool):
            yield int(line), cells

    def _csv_rows(self):
        with self._binary() as f:
            lines = self._decoded_lines(f)
            if not self._sniffed:  # the separator is the one the first non-blank line uses
                first = []
                for text in lines:
                    first.append(text)
                    if text.strip():
                        self.delimiter = _sniff_delimiter(text)
                        break
                self._sniffed = True
                lines = chain(first, lines)
            reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
            while True:
                start = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    if "end of data" in str(exc):
                        raise ImportFileError(
                            "a quoted field is never closed (a missing double quote).", line=start
                        ) from exc
                    raise ImportFileError(f"this is not valid CSV ({exc}).", line=start) from exc
                yield start, cells

    @staticmethod
    def _decoded_lines(f):
        for number, raw in enumerate(f, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ImportFileError(
                    "this line is not UTF-8 text. Save the file as “CSV UTF-8” and try again.",
                    line=number,
                ) from exc

    def _xlsx_rows(self):
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        with self._binary() as f:
            try:
                workbook = load_workbook(f, read_only=True, data_only=True)
            except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
                raise ImportFileError(
                    "This file could not be read as an Excel .xlsx workbook. Save it as .xlsx "
                    "or as CSV UTF-8 and try again."
                ) from exc
            try:
                sheet = workbook.worksheets[0]
                for line, values in enumerate(
                    sheet.iter_rows(values_only=True), start=sheet.min_row or 1
                ):
                    yield line, list(values)
            finally:
                workbook.close()
