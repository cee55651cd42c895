import csv
import io

import pytest
from django.core.management import CommandError, call_command

from registrations import services
from registrations.exports import REGISTRATION_HEADER, SCHEDULE_HEADER
from tests.factories import ParticipantFactory, SlotFactory, TeamFactory, TournamentFactory

pytestmark = pytest.mark.django_db


def command(name, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rows(text):
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def festival():
    piano = TournamentFactory(name="Piano", slug="piano")
    slot = SlotFactory(time_block__tournament=piano, capacity=3)
    ada = ParticipantFactory(first_name="Ada", last_name="King", external_id="S-1")
    services.registration_create(
        tournament=piano,
        slot_id=slot.pk,
        participant=ada,
        actor="t",
        contact_name="Mum King",
        contact_email="mum@example.org",
        contact_phone="+44 20 7946 0958",
    )
    gone = services.registration_create(
        tournament=piano, participant=ParticipantFactory(first_name="Bo"), actor="t"
    )
    services.registration_cancel(registration=gone, actor="t", reason="ill")
    relay = TournamentFactory(name="Relay", slug="relay", team_event=True)
    team = TeamFactory(name="Red")
    ParticipantFactory.create_batch(2, team=team)
    services.registration_create(tournament=relay, team=team, actor="t")
    return piano


class TestExportSchedule:
    def test_it_writes_the_running_order_to_stdout(self, festival):
        out, err = command("export_schedule", "piano")

        table = rows(out)
        assert table[0] == SCHEDULE_HEADER
        assert [r[4] for r in table[1:]] == ["Ada King"]
        assert err.strip() == "Wrote 1 entr(y/ies) of Piano to standard output."

    def test_it_writes_a_file_with_a_bom_for_excel(self, festival, tmp_path):
        path = tmp_path / "piano.csv"

        command("export_schedule", "piano", "-o", str(path), "--bom")

        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")
        assert rows(data.decode("utf-8-sig"))[1][4] == "Ada King"
        assert [p.name for p in tmp_path.iterdir()] == ["piano.csv"]  # no partial file left

    def test_an_unknown_slug_is_refused(self, festival):
        with pytest.raises(CommandError, match="Did you mean piano"):
            command("export_schedule", "pian")

    def test_a_missing_directory_is_refused(self, festival, tmp_path):
        with pytest.raises(CommandError, match="No such directory"):
            command("export_schedule", "piano", "-o", str(tmp_path / "nope" / "x.csv"))


class TestExportRegistrations:
    def test_it_exports_every_field_including_contacts(self, festival):
        out, err = command("export_registrations")

        table = rows(out)
        assert table[0] == REGISTRATION_HEADER
        assert len(table) == 4
        ada = next(dict(zip(table[0], r, strict=True)) for r in table[1:] if r[4] == "Ada King")
        assert ada["External ID"] == "S-1"
        assert ada["Contact e-mail"] == "mum@example.org"
        assert ada["Contact phone"] == "+44 20 7946 0958"
        assert ada["Status"] == "Confirmed"
        assert ada["Room"] and ada["Start"]
        assert err.strip() == "Wrote 3 registrations to standard output."

    def test_it_filters_by_tournament_and_leaves_out_cancelled_ones(self, festival):
        out, _ = command("export_registrations", "--tournament", "piano", "--active")

        assert [r[4] for r in rows(out)[1:]] == ["Ada King"]

    def test_active_and_cancelled_together_are_refused(self, festival):
        with pytest.raises(CommandError, match="drop one of the two"):
            command("export_registrations", "--active", "--status", "cancelled")

    def test_it_filters_by_status(self, festival):
        out, _ = command("export_registrations", "--status", "cancelled")

        (row,) = rows(out)[1:]
        assert row[3] == "Cancelled"
        assert row[REGISTRATION_HEADER.index("Cancel reason")] == "ill"

    def test_team_entries_list_their_members(self, festival):
        out, _ = command("export_registrations", "-t", "relay")

        (row,) = rows(out)[1:]
        assert row[REGISTRATION_HEADER.index("Team")] == "Red"
        assert row[REGISTRATION_HEADER.index("Seats")] == "2"
        assert row[REGISTRATION_HEADER.index("Members")].count(";") == 1

    def test_a_name_that_looks_like_a_formula_is_defused(self, tournament):
        services.registration_create(
            tournament=tournament, entrant_name='=HYPERLINK("http://x")', actor="public"
        )

        out, _ = command("export_registrations")

        assert rows(out)[1][4] == '\'=HYPERLINK("http://x")'
