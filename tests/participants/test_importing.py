"""The participant import, with the real files in tests/data/ (registering for a tournament:
tests/registrations/test_importing.py)."""

import csv
import zipfile
from pathlib import Path

import pytest

from common.audit_sentences import audit_sentence
from common.models import AuditEvent
from common.tabular import ImportFileError, Table
from participants.importing import ImportRowsInvalid, map_columns, participant_import
from participants.models import Participant, Team
from registrations.models import Registration
from tests.factories import ParticipantFactory, TeamFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"


def run(path, **kwargs):
    kwargs.setdefault("actor", "test")
    return participant_import(table=Table(path), **kwargs)


def snapshot():
    """What an import could have written."""
    return (
        list(Participant.objects.order_by("pk").values()),
        list(Team.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
        Registration.objects.count(),
    )


def write(tmp_path, text, name="list.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


class TestCleanFile:
    def test_it_creates_everyone_with_their_teams(self):
        result = run(DATA / "participants_clean.csv")

        assert (result.created, result.updated, result.unchanged, result.rejected) == (8, 0, 0, 0)
        assert result.teams_created == 2
        chloe = Participant.objects.get(external_id="S-1003")
        assert (chloe.first_name, chloe.last_name, chloe.birth_year, chloe.grade) == (
            "Chloé",
            "Durand",
            2010,
            "8",
        )
        assert chloe.search_name == "chloe durand s-1003"
        assert chloe.team is None
        farid = Participant.objects.get(external_id="S-1006")
        assert farid.school == "St. Mary's, Upper School"  # a quoted comma stays in the value
        red = Team.objects.get(name="Red Dragons")
        assert red.school == "Hill School"
        assert sorted(red.members.values_list("first_name", flat=True)) == ["Ada", "Bo"]
        assert Team.objects.get(name="Blue Herons").members.count() == 2

    def test_it_writes_an_audit_event_per_participant_and_team(self):
        run(DATA / "participants_clean.csv", actor="command:import_participants")

        events = AuditEvent.objects.filter(actor="command:import_participants")
        assert events.filter(action="participant.create").count() == 8
        assert events.filter(action="team.create").count() == 2
        ada = Participant.objects.get(external_id="S-1001")
        event = events.get(target_id=ada.pk)
        assert event.payload["line"] == 2
        assert event.payload["file"] == "participants_clean.csv"

    def test_a_reimport_changes_nothing(self):
        run(DATA / "participants_clean.csv")
        before = snapshot()

        result = run(DATA / "participants_clean.csv")

        assert (result.created, result.updated, result.unchanged, result.rejected) == (0, 0, 8, 0)
        assert result.teams_created == 0
        assert snapshot() == before

    def test_a_changed_row_updates_only_what_changed(self, tmp_path):
        run(DATA / "participants_clean.csv")
        text = (DATA / "participants_clean.csv").read_text(encoding="utf-8")
        path = write(tmp_path, text.replace("S-1002,Bo,Li,2012,6,", "S-1002,Bo,Li,2012,7,"))

        result = run(path)

        assert (result.created, result.updated, result.unchanged) == (0, 1, 7)
        assert Participant.objects.get(external_id="S-1002").grade == "7"
        event = AuditEvent.objects.get(action="participant.update")
        assert event.payload["changed"] == ["grade"]
        assert (event.payload["before"], event.payload["after"]) == ({"grade": "6"}, {"grade": "7"})
        assert event.payload["line"] == 3

    def test_a_move_to_another_team_is_audited_with_both_teams_names(self, tmp_path):
        run(DATA / "participants_clean.csv")
        text = (DATA / "participants_clean.csv").read_text(encoding="utf-8")
        moved = text.replace(
            "S-1002,Bo,Li,2012,6,Hill School,Red Dragons",
            "S-1002,Bo,Li,2012,6,Hill School,Green Owls",
        )
        assert moved != text
        path = write(tmp_path, moved)

        run(path)

        event = AuditEvent.objects.get(action="participant.update")
        assert event.payload["changed"] == ["team"]
        assert event.payload["before"] == {"team": "Red Dragons"}
        assert event.payload["after"] == {"team": "Green Owls"}
        assert "team “Red Dragons” → “Green Owls”" in audit_sentence(event)

    def test_a_dry_run_counts_the_changes_and_writes_nothing(self):
        result = run(DATA / "participants_clean.csv", dry_run=True)

        assert (result.created, result.teams_created) == (8, 2)
        assert [c.action for c in result.changes] == ["create"] * 8
        assert snapshot() == ([], [], 0, 0)

    def test_small_batches_give_the_same_result(self):
        result = run(DATA / "participants_clean.csv", batch_size=3)

        assert (result.created, result.teams_created) == (8, 2)
        assert Team.objects.count() == 2


class TestMessyFile:
    """BOM, semicolons, accents, blank lines, repeats, a bad date, a value over two lines."""

    def test_bad_rows_stop_the_import_with_their_line_numbers(self):
        with pytest.raises(ImportRowsInvalid) as caught:
            run(DATA / "participants_messy.csv")

        errors = {e.line: e.message for e in caught.value.result.errors}
        assert sorted(errors) == [7, 9, 11, 14]
        assert "birth date “31.02.2011” is not a date" in errors[7]
        assert "external id “A-18” is already on line 3" in errors[9]
        assert errors[11] == "last name is empty"
        assert "2099-01-01" in errors[14]  # counted after the value that spans two lines
        assert "nothing was imported" in caught.value.message
        assert snapshot() == ([], [], 0, 0)

    def test_skipping_bad_rows_imports_the_good_ones_and_rejects_the_rest(self, tmp_path):
        rejects = tmp_path / "rejected.csv"

        result = run(DATA / "participants_messy.csv", skip_bad_rows=True, reject_path=rejects)

        assert (result.created, result.rejected, result.duplicates) == (5, 4, 1)
        assert result.reject_path == str(rejects)
        zoe = Participant.objects.get(external_id="A-17")
        assert (zoe.first_name, zoe.last_name, zoe.school) == (
            "Zoë",
            "Ñúñez",
            "Escuela Nº 5; Sevilla",
        )
        assert zoe.birth_year == 2011
        assert Participant.objects.get(external_id="A-18").birth_year == 2010  # 04.05.2010
        asa = Participant.objects.get(external_id="A-19")
        assert asa.first_name == "Åsa"  # spaces around the value are gone
        noemie = Participant.objects.get(external_id="A-22")
        assert noemie.display_name == 'La "Petite" Noémie'
        assert Participant.objects.get(first_name="Siobhán").external_id is None
        assert Team.objects.get().name == "Die Füchse"
        assert "Line 6 repeats line 2; skipped." in result.warnings
        assert any("Shoe size" in w for w in result.warnings)

        with open(rejects, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        assert rows[0] == [
            "Line",
            "student_id",
            "FIRST NAME",
            "Surname",
            "Date of Birth",
            "school",
            "Team",
            "Stage name",
            "Shoe size",
            "Error",
        ]
        assert [r[:2] for r in rows[1:]] == [
            ["7", "A-20"],
            ["9", "A-18"],
            ["11", "A-21"],
            ["14", "A-23"],
        ]
        assert rows[1][4] == "31.02.2011"
        assert "is not a date" in rows[1][-1]

    def test_a_reimport_with_skipping_changes_nothing(self, tmp_path):
        run(DATA / "participants_messy.csv", skip_bad_rows=True, reject_path=tmp_path / "r.csv")
        before = snapshot()

        result = run(
            DATA / "participants_messy.csv", skip_bad_rows=True, reject_path=tmp_path / "r.csv"
        )

        assert (result.created, result.updated, result.unchanged, result.rejected) == (0, 0, 5, 4)
        assert snapshot() == before

    def test_a_missing_required_column_stops_everything(self):
        with pytest.raises(ImportFileError) as caught:
            run(DATA / "participants_missing_column.csv")

        assert "no last name column" in caught.value.message
        assert snapshot() == ([], [], 0, 0)

    def test_a_file_that_is_not_utf8_names_the_first_bad_line(self):
        with pytest.raises(ImportFileError) as caught:
            run(DATA / "participants_latin1.csv")

        assert caught.value.message.startswith("Line 3: this line is not UTF-8")
        assert snapshot() == ([], [], 0, 0)


class TestSpreadsheet:
    def test_it_reads_the_first_sheet_with_numbers_and_dates(self, tmp_path):
        result = run(DATA / "participants.xlsx", skip_bad_rows=True, reject_path=tmp_path / "r.csv")

        assert (result.created, result.rejected) == (3, 1)
        assert [(e.line, e.message) for e in result.errors] == [
            (6, "birth date “not a date” is not a date (use YYYY-MM-DD or DD.MM.YYYY)")
        ]
        lea = Participant.objects.get(external_id="9001")
        assert (lea.first_name, lea.birth_year, lea.grade) == ("Léa", 2011, "7")
        assert lea.team.name == "Les Étoiles"
        assert Participant.objects.get(external_id="9003").birth_year == 2010

    def test_an_old_xls_file_is_refused_with_advice(self, tmp_path):
        path = tmp_path / "old.xls"
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)

        with pytest.raises(ImportFileError, match=r"old Excel \.xls"):
            Table(path)

    def test_another_kind_of_zip_file_is_refused_with_advice(self, tmp_path):
        path = tmp_path / "list.ods"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")

        with pytest.raises(ImportFileError, match=r"could not be read as an Excel \.xlsx"):
            Table(path)


class TestHeadings:
    @pytest.mark.parametrize(
        "heading",
        ["First Name", "first_name", "FIRST-NAME", "firstname", "Given name", " Forename "],
    )
    def test_common_spellings_of_a_heading_are_understood(self, heading):
        positions, warnings = map_columns([heading, "Last name"])

        assert positions == {"first_name": 0, "last_name": 1}
        assert warnings == []

    def test_two_headings_for_one_field_are_refused(self):
        with pytest.raises(ImportFileError, match="“Surname” and “last_name” both mean"):
            map_columns(["First name", "Surname", "last_name"])

    def test_a_tab_separated_file_is_read_too(self, tmp_path):
        path = write(tmp_path, "First name\tLast name\nAda\tKing\n")

        assert run(path).created == 1


class TestMatching:
    def test_a_row_without_id_updates_the_namesake_at_the_same_school(self, tmp_path):
        person = ParticipantFactory(
            first_name="Siobhán", last_name="O'Connor", school="St. Brigid's"
        )
        path = write(
            tmp_path, "first name,last name,school,grade\nSIOBHÁN,o'connor,St. Brigid's,9\n"
        )

        result = run(path)

        assert (result.created, result.updated) == (0, 1)
        person.refresh_from_db()
        assert (person.first_name, person.last_name, person.grade) == ("SIOBHÁN", "o'connor", "9")

    def test_a_namesake_at_another_school_is_someone_else(self, tmp_path):
        ParticipantFactory(first_name="Ada", last_name="King", school="Hill School")
        path = write(tmp_path, "first name,last name,school\nAda,King,Lakeside\n")

        assert run(path).created == 1

    def test_a_new_external_id_takes_over_a_namesake_without_one(self, tmp_path):
        person = ParticipantFactory(first_name="Ada", last_name="King", school="Hill School")
        path = write(tmp_path, "id,first name,last name,school\nS-1,Ada,King,Hill School\n")

        result = run(path)

        assert (result.created, result.updated) == (0, 1)
        person.refresh_from_db()
        assert person.external_id == "S-1"
        assert person.search_name == "ada king s-1"

    def test_a_namesake_with_another_external_id_is_not_taken_over(self, tmp_path):
        ParticipantFactory(first_name="Ada", last_name="King", school="X", external_id="S-9")
        path = write(tmp_path, "id,first name,last name,school\nS-1,Ada,King,X\n")

        assert run(path).created == 1

    def test_two_namesakes_make_a_row_without_id_ambiguous(self, tmp_path):
        ParticipantFactory.create_batch(2, first_name="Ada", last_name="King", school="X")
        path = write(tmp_path, "first name,last name,school\nBo,Li,X\nAda,King,X\n")

        with pytest.raises(ImportRowsInvalid) as caught:
            run(path)

        assert [str(e) for e in caught.value.result.errors] == [
            "Line 3: 2 participants are called Ada King at that school; add an external id "
            "to say which one"
        ]
        assert not Participant.objects.filter(first_name="Bo").exists()

    def test_only_the_files_columns_are_written(self, tmp_path):
        person = ParticipantFactory(external_id="S-1", grade="7", school="Hill", birth_year=2011)
        path = write(tmp_path, f"id,first name,last name\nS-1,{person.first_name},Newname\n")

        run(path)

        person.refresh_from_db()
        assert (person.last_name, person.grade, person.school, person.birth_year) == (
            "Newname",
            "7",
            "Hill",
            2011,
        )

    def test_an_empty_cell_clears_the_field_but_never_the_external_id(self, tmp_path):
        team = TeamFactory(school="Hill")
        person = ParticipantFactory(
            external_id="S-1", first_name="Ada", last_name="King", school="Hill", team=team
        )
        path = write(tmp_path, "id,first name,last name,school,team,grade\n,Ada,King,Hill,,\n")

        result = run(path)

        assert result.updated == 1
        person.refresh_from_db()
        assert (person.external_id, person.team, person.grade) == ("S-1", None, "")

    def test_an_existing_team_is_joined_ignoring_case(self, tmp_path):
        team = TeamFactory(name="Red Dragons", school="Hill School")
        path = write(
            tmp_path, "first name,last name,school,team\nAda,King,Hill School,RED dragons\n"
        )

        result = run(path)

        assert result.teams_created == 0
        assert Participant.objects.get().team == team


class TestRepeatsWithinTheFile:
    def test_an_exact_repeat_in_a_later_batch_is_skipped(self, tmp_path):
        rows = "".join(f"S-{n},First{n},Last{n}\n" for n in range(5))
        path = write(tmp_path, "id,first name,last name\n" + rows + "S-1,First1,Last1\n")

        result = run(path, batch_size=2)

        assert (result.created, result.duplicates, result.rejected) == (5, 1, 0)
        assert "Line 7 repeats line 3; skipped." in result.warnings

    def test_the_same_person_with_and_without_an_id_is_an_error(self, tmp_path):
        path = write(tmp_path, "id,first name,last name\n,Ada,King\nS-1,Ada,King\n")

        with pytest.raises(ImportRowsInvalid) as caught:
            run(path)

        (error,) = caught.value.result.errors
        assert error.line == 3
        assert "once with and once without an external id" in error.message

    def test_two_people_with_one_name_and_different_ids_are_both_created(self, tmp_path):
        path = write(tmp_path, "id,first name,last name\nS-1,Ada,King\nS-2,Ada,King\n")

        assert run(path).created == 2


class TestBadValues:
    @pytest.mark.parametrize(
        ("row", "message"),
        [
            (",King,2011,", "first name is empty"),
            ("Ada,King,20x1,", "birth year “20x1” is not a year between 1900 and now"),
            ("Ada,King,1850,", "birth year “1850” is not a year between 1900 and now"),
            ("Ada,King,2011,not-an-email", "contact email “not-an-email” is not an e-mail"),
            ("Ada,King,2011,a@b.org,extra", "more values than the header has columns"),
            ("Ada," + "K" * 101 + ",2011,", "last name is longer than 100 characters"),
        ],
    )
    def test_a_bad_value_is_reported_on_its_line(self, tmp_path, row, message):
        path = write(tmp_path, "first name,last name,birth year,email\nBo,Li,2012,\n" + row + "\n")

        with pytest.raises(ImportRowsInvalid) as caught:
            run(path)

        (error,) = caught.value.result.errors
        assert error.line == 3
        assert message in error.message
        assert not Participant.objects.exists()

    def test_a_year_and_a_date_that_disagree_are_an_error(self, tmp_path):
        path = write(tmp_path, "first name,last name,birth year,dob\nAda,King,2010,2011-02-03\n")

        with pytest.raises(ImportRowsInvalid, match="1 row"):
            run(path)

    def test_an_unclosed_quote_names_the_line_it_starts_on(self, tmp_path):
        path = write(tmp_path, 'first name,last name\nAda,King\n"Bo,Li\nCy,Wu\n')

        with pytest.raises(ImportFileError, match="Line 3: a quoted field is never closed"):
            run(path)

    def test_an_empty_file_is_refused(self, tmp_path):
        with pytest.raises(ImportFileError, match="empty"):
            Table(write(tmp_path, "\n\n"))
