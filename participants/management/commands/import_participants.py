from pathlib import Path

from django.core.management.base import CommandError

from common.commands import ImportCommand, Progress, get_or_suggest
from common.tabular import ImportFileError, Table
from common.text import plural
from common.times import tournament_zone
from participants.importing import COLUMNS, ImportRowsInvalid, participant_import
from registrations.importing import participant_import_into_tournament
from tournaments.models import Tournament


def _columns_help():
    lines = ["Columns (headings match ignoring case, accents, spaces, _ and -):"]
    for column in COLUMNS:
        required = " (required)" if column.required else ""
        lines.append(f"  {column.label}{required}: {', '.join(column.aliases)}")
        if column.help:
            lines.append(f"      {column.help}")
    return "\n".join(lines)


class Command(ImportCommand):
    help = (
        "Import participants from a CSV (UTF-8, comma or semicolon) or .xlsx file: create "
        "new ones and update those already on the list (matched by external id, else by "
        "name and school). Every row is checked first; nothing is written if any row is bad "
        "unless --skip-bad-rows."
    )

    tournament_help = "Also register everyone imported in this tournament (its rules apply)."
    skip_help = "Import the good rows; write the bad ones with their error to a reject file."

    def columns_help(self):
        return _columns_help()

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--reject-file",
            metavar="PATH",
            help="Where --skip-bad-rows writes bad rows (default: NAME.rejected.csv beside FILE).",
        )
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Rows per transaction (default 1000)."
        )

    def handle(self, *args, file, dry_run, tournament, skip_bad_rows, reject_file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        target = (
            get_or_suggest(
                Tournament.objects.not_deleted(), field="slug", value=tournament, noun="tournament"
            )
            if tournament
            else None
        )
        reject_path = Path(reject_file) if reject_file else path.with_suffix(".rejected.csv")
        verbosity = self.verbosity = options["verbosity"]
        progress = Progress(
            self, labels={"check": "Checking", "write": "Importing"}, verbosity=verbosity
        )

        def show_row(change):
            if change.action == "unchanged" and verbosity < 3:
                return
            verb = {
                "create": ("Would create", "Created"),
                "update": ("Would update", "Updated"),
                "unchanged": ("Would leave", "Unchanged"),
            }[change.action][0 if dry_run else 1]
            fields = f": {', '.join(change.fields)}" if change.fields else ""
            progress.write(f"{verb} {change.name} (line {change.line}){fields}", self.stdout.write)

        def show_error(error):
            progress.write(self.style.ERROR(str(error)), self.stderr.write)

        arguments = {
            "actor": "command:import_participants",
            "dry_run": dry_run,
            "skip_bad_rows": skip_bad_rows,
            "reject_path": reject_path,
            "batch_size": options["batch_size"],
            "on_progress": progress,
            "on_row": show_row if verbosity >= 2 else None,
            "on_error": show_error,
        }
        try:
            table = Table(path)
            if target is None:
                result = participant_import(table=table, **arguments)
            else:
                with tournament_zone(target):  # times in its refusals, as the venue reads them
                    result = participant_import_into_tournament(
                        table=table, tournament=target, **arguments
                    )
        except ImportRowsInvalid as exc:
            progress.close()
            self._report(exc.result, target, skip_bad_rows, reject_path)
            raise CommandError(exc.message) from exc
        except ImportFileError as exc:
            progress.close()
            raise CommandError(f"{path.name}: {exc.message}") from exc
        progress.close()
        self._report(result, target, skip_bad_rows, reject_path)

    def _report(self, result, target, skip_bad_rows, reject_path):
        if self.verbosity < 1:
            return
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(warning))
        if target is not None:
            self.stdout.write(_registration_summary(result, target))
        if result.reject_path:
            self.stdout.write(
                self.style.WARNING(
                    f"Wrote {plural(result.rejected, 'rejected row')} with their errors and "
                    f"line numbers to {result.reject_path}."
                )
            )
        elif result.dry_run and result.rejected and skip_bad_rows:
            self.stdout.write(
                f"Would write {plural(result.rejected, 'rejected row')} to {reject_path}."
            )
        style = self.style.WARNING if result.rejected else self.style.SUCCESS
        self.stdout.write(style(result.summary()))


def _registration_summary(result, tournament):
    if result.dry_run:
        text = f"Would register {result.registered} in {tournament.name}"
        if result.already_registered:
            text += f" ({result.already_registered} already are)"
        text += "; each is checked against the tournament's rules when it runs"
        if result.places_left is not None:
            left = "is" if result.places_left == 1 else "are"
            text += f"; {plural(result.places_left, 'place')} {left} left now"
        return text + "."
    text = f"Registered {result.registered} in {tournament.name}"
    if result.already_registered:
        text += f"; {result.already_registered} already were"
    if result.not_registered:
        text += f"; {result.not_registered} could not be registered (see above)"
    return text + "."
