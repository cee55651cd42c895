from django.core.management.base import BaseCommand

from common.commands import (
    add_output_arguments,
    csv_output,
    get_or_suggest,
)
from registrations.exports import schedule_csv_write
from tournaments.models import Tournament


class Command(BaseCommand):
    help = (
        "Write a tournament's running order (every active entry by time and room) as CSV, "
        "to standard output or to a file with -o."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The tournament's slug.")
        add_output_arguments(parser)

    def handle(self, *args, slug, output, bom, **options):
        tournament = get_or_suggest(
            Tournament.objects.not_deleted(), field="slug", value=slug, noun="tournament"
        )
        with csv_output(self, output, bom=bom) as out:
            rows = schedule_csv_write(tournament=tournament, out=out)
        if options["verbosity"] >= 1:
            # On stderr, so that the CSV on standard output stays clean.
            where = output or "standard output"
            self.stderr.write(
                self.style.SUCCESS(f"Wrote {rows} entr(y/ies) of {tournament.name} to {where}.")
            )


def _tournament(slug):
    return get_or_suggest(
        Tournament.objects.not_deleted(), field="slug", value=slug, noun="tournament"
    )
