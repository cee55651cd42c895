from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.commands import HelpFormatter
from common.tabular import ImportFileError
from registrations.importing import SCHEDULE_WRITES
from tournaments import importing
from tournaments.importing import ScheduleImportInvalid, schedule_import

VERBS = {"create": ("Would create", "Created"), "update": ("Would update", "Updated")}


class Command(BaseCommand):
    help = (
        "Add or update tournaments, rooms and time blocks from a CSV, .xlsx or JSON file "
        "(never deletes). Everything is checked first; the file is imported completely or "
        "not at all. The formats are below."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        formats = importing.__doc__.split("\n\n", 2)[2]
        kwargs.update(formatter_class=HelpFormatter, epilog=formats)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv, .xlsx or .json file.")
        parser.add_argument(
            "-n", "--dry-run", action="store_true", help="Check and show what would change."
        )
        parser.add_argument(
            "--generate-slots",
            action="store_true",
            help="Also (re)generate the slots of every time block in the file. Slots that "
            "hold registrations are never dropped: such a change is refused.",
        )

    def handle(self, *args, file, dry_run, generate_slots, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            result = schedule_import(
                source=path,
                actor="command:import_schedule",
                dry_run=dry_run,
                generate_slots=generate_slots,
                writes=SCHEDULE_WRITES,
            )
        except ScheduleImportInvalid as exc:
            for error in exc.result.errors:
                self.stderr.write(self.style.ERROR(error))
            raise CommandError(f"{path.name}: {exc.message}") from exc
        except ImportFileError as exc:
            raise CommandError(f"{path.name}: {exc.message}") from exc

        if options["verbosity"] >= 1:
            for action, what, where in result.changes:
                self.stdout.write(f"{VERBS[action][0 if dry_run else 1]} {what} ({where.lower()})")
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(warning))
        self.stdout.write(self.style.SUCCESS(result.summary()))
