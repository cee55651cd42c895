from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.commands import HelpFormatter, add_output_arguments, csv_output, get_or_suggest
from common.text import plural
from results.packet import (
    packet_file_name,
    packet_sections_export,
    packet_write_csv,
    packet_write_xlsx,
)
from tournaments.models import Tournament


class Command(BaseCommand):
    help = (
        "Write a tournament's judges' sheet: every entry per day and room, in running order, "
        "with its entry code, time and room, and place, score, penalties and notes to fill in "
        "(existing results filled in). CSV on standard output, or -o FILE (.csv, or .xlsx with "
        "the headings and codes protected), or --per-room DIR: one file per day and room "
        "(DIR/SLUG-DAY-ROOM.csv, or .xlsx with --xlsx) for each room's judges. Read any of "
        "them back with import_results."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.update(formatter_class=HelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The tournament's slug.")
        add_output_arguments(parser)
        parser.add_argument(
            "--per-room",
            metavar="DIR",
            help="Write one file per day and room into DIR (which must exist) instead.",
        )
        parser.add_argument(
            "--xlsx", action="store_true", help="With --per-room: .xlsx files instead of CSV."
        )

    def handle(self, *args, slug, output, bom, **options):
        tournament = get_or_suggest(
            Tournament.objects.not_deleted(), field="slug", value=slug, noun="tournament"
        )
        actor = "command:export_judge_packet"
        if options["per_room"]:
            if output:
                raise CommandError("Give either -o FILE or --per-room DIR, not both.")
            self._per_room(tournament, Path(options["per_room"]), actor, bom, options)
            return
        if options["xlsx"]:
            raise CommandError("--xlsx goes with --per-room; for one file give -o FILE.xlsx.")
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

    def _per_room(self, tournament, folder, actor, bom, options):
        if not folder.is_dir():
            raise CommandError(f"No such directory: {folder}")
        sections = packet_sections_export(tournament=tournament, actor=actor)
        kind = "xlsx" if options["xlsx"] else "csv"
        count = 0
        for section in sections:
            path = folder / packet_file_name(tournament=tournament, section=section, kind=kind)
            if options["xlsx"]:
                with open(path, "wb") as f:
                    count += packet_write_xlsx(
                        tournament=tournament, out=f, actor=actor, sections=[section]
                    )
            else:
                with csv_output(self, str(path), bom=bom) as out:
                    count += packet_write_csv(
                        tournament=tournament, out=out, actor=actor, sections=[section]
                    )
            if options["verbosity"] >= 2:
                self.stdout.write(f"{section.title}: {len(section.rows)} entries → {path}")
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Wrote {plural(count, 'entry', 'entries')} of {tournament.name} in "
                    f"{plural(len(sections), 'file')} (one per day and room) to {folder}."
                )
            )
