from django.core.management.base import BaseCommand, CommandError

from common.commands import (
    add_output_arguments,
    csv_output,
    get_or_suggest,
)
from common.text import plural
from registrations.exports import registrations_csv_write
from registrations.models import Registration
from tournaments.models import Tournament


class Command(BaseCommand):
    help = (
        "Write registrations as CSV with every field, contacts included, to standard output "
        "or to a file with -o. Streams, so it suits any size. Filter by tournament and status."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "-t",
            "--tournament",
            metavar="SLUG",
            action="append",
            help="Only this tournament (repeat for several).",
        )
        parser.add_argument(
            "--status",
            action="append",
            choices=Registration.Status.values,
            help="Only registrations in this status (repeat for several).",
        )
        parser.add_argument(
            "--active", action="store_true", help="Leave out cancelled registrations."
        )
        add_output_arguments(parser)

    def handle(self, *args, tournament, status, active, output, bom, **options):
        tournaments = (
            [
                get_or_suggest(
                    Tournament.objects.not_deleted(), field="slug", value=slug, noun="tournament"
                )
                for slug in tournament
            ]
            if tournament
            else None
        )
        statuses = list(status or [])
        if active and Registration.Status.CANCELLED in statuses:
            raise CommandError("--active leaves out cancelled registrations; drop one of the two.")
        if active and not statuses:
            statuses = list(Registration.ACTIVE_STATUSES)
        with csv_output(self, output, bom=bom) as out:
            rows = registrations_csv_write(out=out, tournaments=tournaments, statuses=statuses)
        if options["verbosity"] >= 1:
            where = output or "standard output"
            self.stderr.write(
                self.style.SUCCESS(f"Wrote {plural(rows, 'registration')} to {where}.")
            )


def _tournament(slug):
    return get_or_suggest(
        Tournament.objects.not_deleted(), field="slug", value=slug, noun="tournament"
    )
