"""Importing a participant list and registering everyone on it in a tournament."""

import io

import pytest

from common.models import AuditEvent
from common.tabular import ImportFileError, Table
from participants.importing import ImportRowsInvalid
from participants.models import Participant
from registrations.importing import participant_import_into_tournament
from registrations.models import Registration
from tests.factories import TournamentFactory
from tests.participants.test_importing import DATA, snapshot, write
from tournaments.models import Tournament

pytestmark = pytest.mark.django_db


def run(path, **kwargs):
    kwargs.setdefault("actor", "test")
    return participant_import_into_tournament(table=Table(path), **kwargs)


class TestRegisteringForATournament:
    def test_everyone_imported_is_registered_through_the_engine(self):
        tournament = TournamentFactory()

        result = run(DATA / "participants_clean.csv", tournament=tournament)

        assert (result.registered, result.not_registered) == (8, 0)
        assert Registration.objects.filter(tournament=tournament).count() == 8
        assert AuditEvent.objects.filter(action="registration.create").count() == 8

    def test_capacity_rules_refuse_the_rest_line_by_line(self):
        tournament = TournamentFactory(max_participants=3)

        result = run(DATA / "participants_clean.csv", tournament=tournament)

        assert (result.created, result.registered, result.not_registered) == (8, 3, 5)
        assert [e.line for e in result.registration_errors] == [5, 6, 7, 8, 9]
        assert "was imported but not registered: " in result.registration_errors[0].message
        assert "no places left" in result.registration_errors[0].message

    def test_a_reimport_counts_those_already_registered(self):
        tournament = TournamentFactory()
        run(DATA / "participants_clean.csv", tournament=tournament)

        result = run(DATA / "participants_clean.csv", tournament=tournament)

        assert (result.registered, result.already_registered) == (0, 8)
        assert Registration.objects.count() == 8

    def test_a_dry_run_says_how_many_would_be_registered_and_the_places_left(self):
        tournament = TournamentFactory(max_participants=5)

        result = run(DATA / "participants_clean.csv", tournament=tournament, dry_run=True)

        assert (result.registered, result.places_left) == (8, 5)
        assert not Registration.objects.exists()

    def test_a_tournament_that_is_not_open_stops_the_import_before_any_write(self):
        tournament = TournamentFactory(status=Tournament.Status.DRAFT)

        with pytest.raises(ImportFileError, match="not open"):
            run(DATA / "participants_clean.csv", tournament=tournament)

        assert snapshot() == ([], [], 0, 0)

    def test_a_team_event_registers_each_team_once(self):
        tournament = TournamentFactory(team_event=True)
        text = (
            "first name,last name,school,team\nAda,King,Hill,Red\nBo,Li,Hill,Red\nCy,Wu,Hill,Blue\n"
        )
        table = Table(io.BytesIO(text.encode()), name="teams.csv")

        result = participant_import_into_tournament(
            table=table, actor="test", tournament=tournament
        )

        assert result.registered == 2
        red = Registration.objects.get(team__name="Red")
        assert red.seats == 2
        assert sorted(red.members.values_list("name", flat=True)) == ["Ada King", "Bo Li"]

    def test_a_team_event_needs_a_team_on_every_row(self, tmp_path):
        tournament = TournamentFactory(team_event=True)
        path = write(tmp_path, "first name,last name,team\nAda,King,Red\nBo,Li,\n")

        with pytest.raises(ImportRowsInvalid) as caught:
            run(path, tournament=tournament)

        assert [e.line for e in caught.value.result.errors] == [3]
        assert not Participant.objects.exists()
