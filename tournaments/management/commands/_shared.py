"""Pieces the staff commands share (a leading underscore keeps Django from listing it)."""

import difflib
from argparse import RawDescriptionHelpFormatter

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

    def __init__(self, command, *, labels):
        self.out = command.stderr._out
        self.enabled = command.stderr.isatty() and command.verbosity >= 1
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
