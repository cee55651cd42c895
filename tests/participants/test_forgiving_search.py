"""Search that forgives: typos on the embedded default too, letters beyond accents folded,
teams found without accents or case (only those that may enter), an exact id alone."""

import importlib

import pytest
from django.apps import apps as django_apps

from common.text import fold
from participants import selectors
from participants.models import Participant
from participants.services import participant_create, team_create
from registrations.selectors import entrant_search
from tests.factories import TournamentFactory

pytestmark = pytest.mark.django_db


def person(first, last, **fields):
    return participant_create(actor="test", first_name=first, last_name=last, **fields)


@pytest.fixture
def people(db):
    person("Gerard", "Berger", external_id="A-17")
    person("Frédérique", "Martin")
    person("Łukasz", "Østergård")
    person("Jürgen", "Weiß")
    person("Ærøskøbing", "Smith")
    person("Zoe", "A-17x")


def first_names(query):
    return [p.first_name for p in selectors.participant_search(query=query)]


def test_fold_spells_letters_in_their_latin_base():
    assert fold("Łukasz Østergård") == "lukasz ostergard"
    assert fold("Weiß") == "weiss" and fold("Æbelø") == "aebelo"
    assert fold("  ZOË\tNúñez ") == "zoe nunez"


@pytest.mark.parametrize(
    ("query", "found"), [("Gerad Bergr", "Gerard"), ("Frederiqe", "Frédérique")]
)
def test_typos_find_the_person(vendor, query, found):
    assert first_names(query)[:1] == [found]


@pytest.mark.parametrize(
    ("query", "found"),
    [("lukasz ostergard", "Łukasz"), ("jurgen weiss", "Jürgen"), ("aeroskobing", "Ærøskøbing")],
)
def test_letters_beyond_accents_are_folded(vendor, query, found):
    assert found in first_names(query)


def test_an_exact_external_id_returns_that_one_person_only(vendor):
    assert first_names("a-17") == ["Gerard"]


def test_the_migration_refolds_names_stored_the_old_way(people):
    Participant.objects.filter(first_name="Łukasz").update(search_name="łukasz østergard")
    migration = importlib.import_module("participants.migrations.0003_refold_search_name")
    migration.refold(django_apps, None)
    assert Participant.objects.get(first_name="Łukasz").search_name == "lukasz ostergard"


@pytest.fixture
def teams(db):
    wolves = team_create(actor="test", name="Łódź Wölfe", school="Szkoła Podstawowa")
    person("Ada", "Nowak", team=wolves)
    team_create(actor="test", name="Lodz Empty", school="Hill School")  # nobody listed
    team_create(actor="test", name="Chess Kings", school="Lake School")


def test_team_names_are_found_without_accents_or_case(teams):
    assert [t.name for t in selectors.team_search(query="LODZ WOLFE")][:1] == ["Łódź Wölfe"]
    assert [t.name for t in selectors.team_search(query="szkola")] == ["Łódź Wölfe"]
    assert [t.name for t in selectors.team_search(query="chess kngs")] == ["Chess Kings"]


def test_team_search_lists_only_teams_that_may_enter_the_tournament(teams):
    listed_only = TournamentFactory(team_event=True, allows_typed_names=False)
    typed_too = TournamentFactory(team_event=True, allows_typed_names=True)
    assert [t.name for t in entrant_search(tournament=listed_only, query="lodz")] == ["Łódź Wölfe"]
    assert {t.name for t in entrant_search(tournament=typed_too, query="lodz")} == {
        "Łódź Wölfe",
        "Lodz Empty",
    }
