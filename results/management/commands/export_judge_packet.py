from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.commands import HelpFormatter, add_output_arguments, csv_output, get_or_suggest
from results.packet import packet_write_csv, packet_write_xlsx
from tournaments.models import Tournament


class Command(BaseCommand):
    help = (
        "Write a tournament's judges' sheet: every entry in running order with its entry code, "
        "time and room, and place, score, penalties and notes to fill in (existing results "
        "filled in). CSV on standard output, or -o FILE (.csv, or .xlsx with the headings "
        "and codes protected). Read it back with import_results."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.update(formatter_class=HelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The tournament's slug.")
        add_output_arguments(parser)

    def handle(self, *args, slug, output, bom, **options):
        tournament = get_or_suggest(
            Tournament.objects.not_deleted(), field="slug", value=slug, noun="tournament"
        )
        actor = "command:export_judge_packet"
        if output and Path(output).suffix.lower() == ".xlsx":
            if not Path(output).parent.is_dir():
                raise CommandError(f"No such directory: {Path(output).parent}")
            with open(output, "wb") as f:
                count = packet_write_xlsx(tournament=tournament, out=f, actor=actor)
        else:
            with csv_output(self, output, bom=bom) as out:
                count = packet_write_csv(tournament=tournament, out=out, actor=actor)
        if output and options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(f"Wrote {count} entries of {tournament.name} to {output}.")
            )
