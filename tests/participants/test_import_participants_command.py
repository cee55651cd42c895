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

    assert out.strip() == "Created 8, updated 0, unchanged 0, rejected 0 (created 2 teams)."
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
    assert lines[-1] == "Would create 8, update 0; 0 unchanged, 0 rejected (would create 2 teams)."
    assert not Participant.objects.exists()
    assert not AuditEvent.objects.exists()


def test_bad_rows_fail_with_their_line_numbers_and_write_nothing():
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"^4 rows have errors, so nothing was imported"):
        call_command(
            "import_participants",
            str(DATA / "participants_messy.csv"),
            stdout=out,
            stderr=(err := io.StringIO()),
        )

    # Refused, so it says what it would have done, not "Created …" before "nothing was imported".
    assert out.getvalue().splitlines()[-1] == (
        "Would create 5, update 0; 0 unchanged, 4 rejected "
        "(1 repeated row skipped; would create 1 team)."
    )
    assert "Created" not in out.getvalue()
    errors = err.getvalue()
    assert "Line 4 is empty; skipped." in errors
    assert "Line 7: birth date “31.02.2011” is not a date" in errors
    assert "Line 11: last name is empty" in errors
    assert not Participant.objects.exists()


def test_skip_bad_rows_writes_them_next_to_the_file(tmp_path):
    shutil.copy(DATA / "participants_messy.csv", tmp_path / "messy.csv")

    out, err = import_participants(tmp_path / "messy.csv", "--skip-bad-rows")

    rejects = tmp_path / "messy.rejected.csv"
    assert f"Wrote 4 rejected rows with their errors and line numbers to {rejects}." in out
    assert out.splitlines()[-1] == (
        "Created 5, updated 0, unchanged 0, rejected 4 (1 repeated row skipped; created 1 team)."
    )
    assert "Line 6 repeats line 2; skipped." in err
    lines = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 5
    assert lines[0].startswith("Line,student_id;FIRST NAME") or lines[0].startswith("Line,")
    assert [line.split(",")[0] for line in lines[1:]] == ["7", "9", "11", "14"]


def test_a_dry_run_with_skip_bad_rows_writes_no_reject_file(tmp_path):
    shutil.copy(DATA / "participants_messy.csv", tmp_path / "messy.csv")

    out, _ = import_participants(tmp_path / "messy.csv", "--skip-bad-rows", "-n")

    assert "Would write 4 rejected rows" in out
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


def test_blank_lines_are_reported_as_runs_and_skipped(tmp_path):
    clean = (DATA / "participants_clean.csv").read_text(encoding="utf-8").splitlines()
    gappy = tmp_path / "gappy.csv"
    gappy.write_text("\n".join([*clean[:3], "", "", *clean[3:5], ",,,,,,", *clean[5:]]) + "\n")

    out, err = import_participants(gappy)

    assert "Lines 4\u20135 are empty; skipped." in err
    assert "Line 8 is empty; skipped." in err
    assert out.splitlines()[-1].startswith("Created 8,")


def test_the_age_column_is_kept_as_given_with_the_day(tmp_path):
    from django.utils import timezone

    roster = tmp_path / "ages.csv"
    roster.write_text(
        "External ID,First name,Last name,Age\nS-1,Ada,King,12\nS-2,Bo,Li,\nS-3,Cy,Ra,12.0\n"
    )

    import_participants(roster)

    ada, bo, cy = Participant.objects.order_by("external_id")
    assert (ada.age, ada.age_given_on, ada.birth_year) == (12, timezone.localdate(), None)
    assert (bo.age, bo.age_given_on) == (None, None)
    assert cy.age == 12


def test_a_bad_age_is_a_line_numbered_error(tmp_path):
    roster = tmp_path / "ages.csv"
    roster.write_text("First name,Last name,Age\nAda,King,twelve\nBo,Li,130\n")

    with pytest.raises(CommandError, match="2 rows have errors"):
        import_participants(roster, stderr=(err := io.StringIO()))

    assert "Line 2: age “twelve” is not a whole number of years from 0 to 120" in err.getvalue()
    assert "Line 3: age “130” is not a whole number" in err.getvalue()


def test_a_fixed_reject_file_imports_without_warnings_about_its_own_columns(tmp_path):
    shutil.copy(DATA / "participants_messy.csv", tmp_path / "messy.csv")
    import_participants(tmp_path / "messy.csv", "--skip-bad-rows")
    rejects = tmp_path / "messy.rejected.csv"

    _, err = import_participants(rejects, "--skip-bad-rows", "-n")

    # Its Line and Error columns are its own: only the file's unknown column is mentioned.
    assert "Ignored a column this import does not know: Shoe size." in err


def test_one_bad_row_reads_in_the_singular(tmp_path):
    roster = tmp_path / "one.csv"
    roster.write_text("First name,Last name\nAda,\n")

    with pytest.raises(CommandError, match=r"^1 row has errors, so nothing was imported"):
        import_participants(roster)
