"""Pieces the staff commands share (a leading underscore keeps Django from listing it)."""

import difflib
import os
import tempfile
from argparse import RawDescriptionHelpFormatter
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError, DjangoHelpFormatter
from tqdm import tqdm

from tournaments.models import Tournament


class HelpFormatter(DjangoHelpFormatter, RawDescriptionHelpFormatter):
    """Django's option order, and an epilog printed as written (for format tables)."""


def tournament_by_slug(slug: str) -> Tournament:
    """The tournament with this slug, or a CommandError that suggests close slugs."""
    try:
        return Tournament.objects.not_deleted().get(slug=slug)
    except Tournament.DoesNotExist:
        slugs = list(Tournament.objects.not_deleted().values_list("slug", flat=True))
        close = difflib.get_close_matches(slug, slugs, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        if not slugs:
            hint = " There are no tournaments yet."
        raise CommandError(f"No tournament has the slug “{slug}”.{hint}") from None


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
        if bom:
            out.write("\ufeff")
        yield out
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
