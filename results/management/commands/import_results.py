from pathlib import Path

from django.core.management.base import CommandError

from common.commands import ImportCommand, get_or_suggest
from common.tabular import ImportFileError, Table
from results.importing import COLUMNS, ResultsImportInvalid, results_import
from tournaments.models import Tournament


def _columns_help():
    lines = ["Columns (headings match ignoring case, accents, spaces, _ and -):"]
    lines += [f"  {key}: {', '.join(aliases)}" for key, aliases in COLUMNS.items()]
    return "\n".join([*lines, "Other columns (time, room, entrant) are ignored."])


class Command(ImportCommand):
    help = (
        "Import a filled-in judges' sheet (from export_judge_packet; CSV or .xlsx). Every row "
        "is checked first, and the placings against the tournament's rules; nothing is "
        "written if anything is wrong unless --skip-bad-rows. An unchanged file changes "
        "nothing; a row left all empty removes that entry's result."
    )

    tournament_help = "The tournament, for a file without a tournament column."
    skip_help = "Import the rows that pass and list the others (the rules still apply to all)."

    def columns_help(self):
        return _columns_help()

    def handle(self, *args, file, dry_run, tournament, skip_bad_rows, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        target = None
        if tournament:
            target = get_or_suggest(
                Tournament.objects.not_deleted(), field="slug", value=tournament, noun="tournament"
            )
        try:
            result = results_import(
                table=Table(path),
                tournament=target,
                actor="command:import_results",
                dry_run=dry_run,
                skip_bad_rows=skip_bad_rows,
            )
        except ResultsImportInvalid as exc:
            for error in exc.result.errors:
                self.stderr.write(self.style.ERROR(error))
            raise CommandError(exc.message) from exc
        except ImportFileError as exc:
            raise CommandError(f"{path.name}: {exc.message}") from exc
        if options["verbosity"] >= 1:
            for error in result.errors:
                self.stderr.write(self.style.WARNING(error))
            for verb, name, line in result.changes():
                self.stdout.write(f"{verb} {name} (line {line})")
            self.stdout.write(self.style.SUCCESS(result.summary()))
