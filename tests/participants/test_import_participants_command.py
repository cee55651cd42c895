import io
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from common.models import AuditEvent
from participants.models import Participant
from registrations.models import Registration
from tests.factories import TournamentFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def import_participants(*args, stderr=None, **options):
    out, err = io.StringIO(), stderr or io.StringIO()
    call_command("import_participants", *[str(a) for a in args], stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_it_imports_and_prints_a_summary():
    out, _ = import_participants(DATA / "participants_clean.csv")

    assert out.strip() == "Created 8, updated 0, unchanged 0, rejected 0 (created 2 team(s))."
    assert Participant.objects.count() == 8
    assert AuditEvent.objects.filter(actor="command:import_participants").count() == 10


def test_verbose_output_names_each_row_and_what_changed(tmp_path):
    import_participants(DATA / "participants_clean.csv")
    changed = tmp_path / "changed.csv"
    text = (DATA / "participants_clean.csv").read_text(encoding="utf-8")
    changed.write_text(text.replace("S-1002,Bo,Li,2012,6,", "S-1002,Bo,Lee,2012,7,"))

    out, _ = import_participants(changed, verbosity=2)

    assert out.splitlines() == [
        "Updated Bo Lee (line 3): last_name, grade",
        "Created 0, updated 1, unchanged 7, rejected 0.",
    ]


def test_a_dry_run_says_would_and_writes_nothing():
    out, _ = import_participants(DATA / "participants_clean.csv", "--dry-run", verbosity=2)

    lines = out.splitlines()
    assert lines[0] == "Would create Ada King (line 2)"
    assert (
        lines[-1] == "Would create 8, update 0; 0 unchanged, 0 rejected (would create 2 team(s))."
    )
    assert not Participant.objects.exists()
    assert not AuditEvent.objects.exists()


def test_bad_rows_fail_with_their_line_numbers_and_write_nothing():
    with pytest.raises(CommandError, match=r"4 row\(s\) have errors, so nothing was imported"):
        import_participants(DATA / "participants_messy.csv", stderr=(err := io.StringIO()))

    errors = err.getvalue()
    assert "Line 7: birth date “31.02.2011” is not a date" in errors
    assert "Line 11: last name is empty" in errors
    assert not Participant.objects.exists()


def test_skip_bad_rows_writes_them_next_to_the_file(tmp_path):
    shutil.copy(DATA / "participants_messy.csv", tmp_path / "messy.csv")

    out, err = import_participants(tmp_path / "messy.csv", "--skip-bad-rows")

    rejects = tmp_path / "messy.rejected.csv"
    assert f"Wrote 4 rejected row(s) with their errors to {rejects}." in out
    assert out.splitlines()[-1] == (
        "Created 5, updated 0, unchanged 0, rejected 4 "
        "(1 repeated row(s) skipped; created 1 team(s))."
    )
    assert "Line 6 repeats line 2; skipped." in err
    assert len(rejects.read_text(encoding="utf-8-sig").splitlines()) == 5


def test_a_dry_run_with_skip_bad_rows_writes_no_reject_file(tmp_path):
    shutil.copy(DATA / "participants_messy.csv", tmp_path / "messy.csv")

    out, _ = import_participants(tmp_path / "messy.csv", "--skip-bad-rows", "-n")

    assert "Would write 4 rejected row(s)" in out
    assert not (tmp_path / "messy.rejected.csv").exists()
    assert not Participant.objects.exists()


def test_tournament_registers_everyone_and_reports_refusals():
    tournament = TournamentFactory(name="Chess Open", slug="chess", max_participants=6)

    out, err = import_participants(DATA / "participants_clean.csv", "--tournament", "chess")

    assert "Registered 6 in Chess Open; 2 could not be registered (see above)." in out
    assert (
        "Line 9: Hana Sato was imported but not registered: Chess Open has no places left." in err
    )
    assert Registration.objects.filter(tournament=tournament).count() == 6


def test_an_unknown_tournament_is_refused_with_a_suggestion():
    TournamentFactory(slug="chess-open")

    with pytest.raises(
        CommandError, match=r"No tournament has the slug “chess-opne”\. Did you mean chess-open"
    ):
        import_participants(DATA / "participants_clean.csv", "--tournament", "chess-opne")


def test_a_missing_file_is_refused():
    with pytest.raises(CommandError, match="No such file"):
        import_participants(DATA / "nothing-here.csv")


def test_a_file_level_problem_names_the_file():
    with pytest.raises(
        CommandError, match=r"participants_latin1\.csv: Line 3: this line is not UTF-8"
    ):
        import_participants(DATA / "participants_latin1.csv")


def test_the_progress_bar_shows_only_on_a_terminal():
    _, err = import_participants(DATA / "participants_clean.csv")
    assert "Importing" not in err

    terminal = FakeTerminal()
    import_participants(DATA / "participants_clean.csv", stderr=terminal)
    assert "Checking" in terminal.getvalue()
    assert "Importing" in terminal.getvalue()


def test_help_lists_the_columns_and_their_aliases(capsys):
    with pytest.raises(SystemExit):
        call_command("import_participants", "--help")

    text = capsys.readouterr().out
    assert "First name (required): first name, firstname" in text
    assert "Birth date: birth date, date of birth" in text
