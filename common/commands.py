"""Pieces every app's staff commands share: help layout, progress bars, CSV output, lookups."""

import difflib
import os
import tempfile
from argparse import RawDescriptionHelpFormatter
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter
from django.db.models import Model, QuerySet
from tqdm import tqdm


class HelpFormatter(DjangoHelpFormatter, RawDescriptionHelpFormatter):
    """Django's option order, and an epilog printed as written (for format tables)."""


def get_or_suggest(queryset: QuerySet, *, field: str, value: str, noun: str) -> Model:
    """The row of `queryset` whose `field` is `value`, or a CommandError that suggests close
    values ("No tournament has the slug “x”. Did you mean y?")."""
    try:
        return queryset.get(**{field: value})
    except queryset.model.DoesNotExist:
        known = [str(v) for v in queryset.values_list(field, flat=True)]
        close = difflib.get_close_matches(value, known, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        if not known:
            hint = f" There are no {queryset.model._meta.verbose_name_plural} yet."
        raise CommandError(f"No {noun} has the {field} “{value}”.{hint}") from None


class ImportCommand(BaseCommand):
    """What every file import shares: a FILE, -n/--dry-run, --tournament and --skip-bad-rows,
    and a help whose epilog lists the file's columns (`columns_help`)."""

    tournament_help = "The tournament (its slug)."
    skip_help = "Import the good rows and report the bad ones."

    def columns_help(self) -> str:
        return ""

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.update(formatter_class=HelpFormatter, epilog=self.columns_help())
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv or .xlsx file.")
        parser.add_argument(
            "-n", "--dry-run", action="store_true", help="Check and show what would change."
        )
        parser.add_argument("--tournament", metavar="SLUG", help=self.tournament_help)
        parser.add_argument("--skip-bad-rows", action="store_true", help=self.skip_help)


class Progress:
    """tqdm bars on the command's stderr, one per phase; silent when stderr is not a TTY."""

    def __init__(self, command, *, labels, verbosity=1):
        self.out = command.stderr._out
        self.enabled = command.stderr.isatty() and verbosity >= 1
        self.labels = labels
        self.bars = {}

    def __call__(self, phase, done, total):
        if not self.enabled:
            return
        bar = self.bars.get(phase)
        if bar is None:
            for other in self.bars.values():
                other.close()
            bar = self.bars[phase] = tqdm(
                total=total, desc=self.labels.get(phase, phase), unit=" rows", file=self.out
            )
        bar.update(done - bar.n)

    def write(self, text, writer):
        """Print a line without breaking a bar that is running."""
        if self.enabled and self.bars:
            tqdm.write(text, file=self.out)
        else:
            writer(text)

    def close(self):
        for bar in self.bars.values():
            bar.close()


def add_output_arguments(parser):
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="Write to FILE instead of standard output."
    )
    parser.add_argument(
        "--bom",
        action="store_true",
        help="Start with a UTF-8 byte-order mark, so that Excel shows accents right.",
    )


@contextmanager
def csv_output(command, path, *, bom=False):
    """A text stream for CSV: standard output, or a file that is replaced only when complete
    (an export that fails half-way leaves the previous file as it was)."""
    if not path:
        out = command.stdout._out
        try:
            if bom:
                out.write("\ufeff")
            yield out
            out.flush()
        except BrokenPipeError:
            # The reader stopped early (`export_registrations | head`): end quietly, and keep
            # Python's own flush at exit from failing on the closed pipe too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
            raise SystemExit(0) from None
        return
    target = Path(path)
    if not target.parent.is_dir():
        raise CommandError(f"No such directory: {target.parent}")
    partial = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then renamed
        "w",
        encoding="utf-8-sig" if bom else "utf-8",
        newline="",
        dir=target.parent,
        prefix=f".{target.name}.",
        delete=False,
    )
    try:
        with partial:
            yield partial
        os.replace(partial.name, target)
    except BaseException:
        os.unlink(partial.name)
        raise
