"""The "find yourself" search: selectors (PostgreSQL and the SQLite fallback) and the page."""

from unittest import mock

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from participants import search as search_module
from participants import selectors
from participants.services import participant_create, team_create
from registrations import services
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory

pytestmark = pytest.mark.django_db


def person(first, last, **fields):
    fields.setdefault("school", "Lincoln Middle School")
    return participant_create(actor="test", first_name=first, last_name=last, **fields)


@pytest.fixture
def people(db):
    return {
        "zoe": person("Zoë", "Núñez", grade="7", external_id="LMS-0042"),
        "zoey": person("Zoey", "Nunn", grade="8", school="Riverside High"),
        "john": person("John", "Smith", grade="6"),
        "jon": person("Jonathan", "Smithers", grade="5"),
        "anna": person("Anna", "Kowalska", grade="9"),
    }


def names(results):
    return [p.first_name for p in results]


@pytest.mark.usefixtures("postgres")
class TestOnPostgreSQL:
    def test_it_ignores_accents_and_case(self, people):
        assert names(selectors.participant_search(query="ZOE NUNEZ"))[0] == "Zoë"

    def test_it_tolerates_typos(self, people):
        assert names(selectors.participant_search(query="Zoe Nunes"))[0] == "Zoë"
        assert "Anna" in names(selectors.participant_search(query="Ana Kowalski"))

    def test_it_matches_words_as_they_are_typed(self, people):
        assert "Zoë" in names(selectors.participant_search(query="zo nun"))

    def test_it_finds_an_external_id_and_puts_it_first(self, people):
        assert names(selectors.participant_search(query="lms-0042")) == ["Zoë"]

    def test_the_best_match_comes_first(self, people):
        assert names(selectors.participant_search(query="John Smith"))[:2] == [
            "John",
            "Jonathan",
        ]

    def test_a_full_name_does_not_list_everyone_sharing_one_of_its_words(self, people):
        for last in ("Kolsen", "Brandt", "Weber", "Varga"):
            person("Dmitri", last)
        person("Dmitri", "Vuwaard")
        found = selectors.participant_search(query="Dmitri Vuwaadr")
        assert [p.last_name for p in found] == ["Vuwaard"]
        assert len(selectors.participant_search(query="Dmitri")) == 5

    @pytest.mark.parametrize(
        ("query", "found"),
        [("Ila Smithson", "Ida"), ("Eiml Mazur", "Emil"), ("Emil Maxur", "Emil")],
    )
    def test_one_typo_in_any_word_still_finds_the_person(self, query, found):
        person("Ida", "Smithson")
        person("Emil", "Mazur")
        person("Ida", "Mazur")
        assert names(selectors.participant_search(query=query))[:1] == [found]

    def test_it_returns_a_short_page_and_says_there_is_more(self):
        for i in range(15):
            person("Sam", f"Taylor{i}")
        results = selectors.participant_search(query="Sam Taylor")
        assert len(results) == selectors.SEARCH_LIMIT
        assert results.more

    def test_nothing_for_unrelated_or_too_short_queries(self, people):
        assert not selectors.participant_search(query="Wolfgang")
        assert not selectors.participant_search(query="z")

    @pytest.mark.django_db(transaction=True)
    def test_the_thresholds_do_not_leak_into_the_connection(self, people):
        selectors.participant_search(query="zoe")
        with connection.cursor() as cursor:
            cursor.execute("SHOW pg_trgm.word_similarity_threshold")
            assert cursor.fetchone()[0] == "0.6"

    @pytest.mark.parametrize(
        ("query", "index"),
        [("zoe nunes", "participant_search_trgm_idx"), ("zo", "participant_search_fts_idx")],
    )
    def test_the_search_can_use_the_gin_indexes(self, people, query, index):
        queryset = search_module.Participant.objects.order_by().annotate(
            document=search_module.SearchDocument("search_name")
        )
        if index.endswith("fts_idx"):
            queryset = queryset.filter(
                document=search_module.SearchQuery("zo:*", config="simple", search_type="raw")
            )
        else:
            queryset = queryset.filter(search_name__trigram_similar=query)
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            try:
                plan = queryset.explain()
            finally:
                cursor.execute("SET enable_seqscan = on")
        assert index in plan


def test_the_simple_fallback_finds_words_accents_and_ids_best_first(people):
    participants = search_module.Participant.objects.all()
    found = search_module._search_simple(participants, "Zoe Nunez", "zoe nunez", 10)
    assert [p.first_name for p in found][:1] == ["Zoë"]
    found = search_module._search_simple(participants, "LMS-0042", "lms-0042", 10)
    assert [p.first_name for p in found] == ["Zoë"]


def test_on_sqlite_the_search_takes_the_fallback(people):
    with (
        mock.patch.object(selectors.connection, "vendor", "sqlite"),
        mock.patch.object(search_module, "_search_simple", return_value=[]) as fallback,
    ):
        selectors.participant_search(query="zoe")
    fallback.assert_called_once()


def test_the_index_migration_does_nothing_on_other_databases():
    import importlib

    migration = importlib.import_module("participants.migrations.0002_search_indexes")
    editor = mock.Mock()
    editor.connection.vendor = "sqlite"
    for operation in migration.Migration.operations:
        operation.database_forwards("participants", editor, mock.Mock(), mock.Mock())
        operation.database_backwards("participants", editor, mock.Mock(), mock.Mock())
    editor.execute.assert_not_called()


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_a_typed_name_finds_the_listed_person_it_is_or_is_one_typo_from(people, vendor):
    def same(name):
        with mock.patch.object(selectors.connection, "vendor", vendor):
            return [p.last_name for p in selectors.participant_list_same_name(name=name)]

    assert same("ZOE NUNEZ") == ["Núñez"]
    assert same("Anna Kowalksa") == ["Kowalska"]  # two letters swapped
    assert same("Jon Smith") == ["Smith"]  # one left out
    assert same("Jonathan Smithrs") == ["Smithers"]
    assert same("Jon Smit") == []  # two typos
    assert same("Jonathan") == []  # a part of the name
    person("Bo", "Lind")
    assert same("bo lind") == ["Lind"]
    assert same("Bo Lund") == []  # as likely someone else: a short name must be exact


def test_team_search_finds_by_name_or_school():
    team_create(actor="test", name="Robo Wolves", school="Hill School")
    team_create(actor="test", name="Chess Kings", school="Lake School")
    assert [t.name for t in selectors.team_search(query="wolves")] == ["Robo Wolves"]
    assert [t.name for t in selectors.team_search(query="Lake")] == ["Chess Kings"]


# --- the page ---------------------------------------------------------------------------------


def search(client, tournament, **params):
    return client.get(reverse("participants:search", args=[tournament.slug]), params)


def test_results_show_display_name_school_grade_and_team_only(client, tournament, people):
    zoe = people["zoe"]
    zoe.birth_year = 2012
    zoe.save()
    registration_contact = "parent@example.com"
    other = TournamentFactory()
    services.registration_create(
        tournament=other,
        participant=zoe,
        actor="test",
        contact_email=registration_contact,
    )

    html = search(client, tournament, q="zoe nunez").content.decode()

    assert "Zoë N." in html and "Núñez" not in html
    assert "Lincoln Middle School" in html and "Grade 7" in html
    assert "2012" not in html and registration_contact not in html and "LMS-0042" not in html
    assert f"participant={zoe.pk}" in html


def test_results_show_full_names_when_the_tournament_does(client, people):
    tournament = TournamentFactory(public_full_names=True)
    assert "Zoë Núñez" in search(client, tournament, q="zoe").content.decode()


def test_a_result_already_signed_up_has_no_sign_up_link(client, people):
    slot = SlotFactory()
    services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=people["zoe"], actor="test"
    )
    html = search(client, slot.tournament, q="zoe nunez").content.decode()
    assert "Already signed up" in html
    assert f"participant={people['zoe'].pk}" not in html


def test_a_chosen_slot_is_carried_into_the_sign_up_links(client, slot, people):
    html = search(client, slot.tournament, q="anna", slot=str(slot.pk)).content.decode()
    assert f"participant={people['anna'].pk}&amp;slot={slot.pk}" in html


def test_no_match_and_too_short_queries_are_explained(client, tournament, people):
    assert "Nobody on the list matches" in search(client, tournament, q="Wolfgang").content.decode()
    assert "at least two letters" in search(client, tournament, q="z").content.decode()
    assert "Sign up by typing the name" in search(client, tournament, q="Wolfgang").content.decode()


def test_typed_sign_up_is_not_offered_when_the_tournament_forbids_it(client, people):
    tournament = TournamentFactory(allows_typed_names=False)
    assert "typing the name" not in search(client, tournament, q="Wolfgang").content.decode()


def test_team_events_search_teams(client):
    tournament = TournamentFactory(team_event=True)
    team = team_create(actor="test", name="Robo Wolves", school="Hill School")
    ParticipantFactory.create_batch(3, team=team)
    html = search(client, tournament, q="wolves").content.decode()
    assert "Robo Wolves" in html and "3 members" in html
    assert f"team={team.pk}" in html


def test_the_search_is_rate_limited_per_client(client, tournament):
    with override_settings(LINEUP_RATE_SEARCH="3/h"):
        statuses = [search(client, tournament, q="anna").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_rate_limit_page_is_friendly(client, tournament):
    with override_settings(LINEUP_RATE_SEARCH="1/h"):
        search(client, tournament, q="anna")
        response = search(client, tournament, q="anna")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "please wait a minute" in response.content.decode()


def test_the_search_page_runs_the_same_queries_for_few_or_many_matches(client, tournament):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    search(client, tournament, q="warm up")  # both counts then find the tournament cached
    counts = []
    for extra in (1, 25):
        for i in range(extra):
            person("Sam", f"Taylor{extra}-{i}")
        with CaptureQueriesContext(connection) as queries:
            search(client, tournament, q="Sam Taylor")
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_an_unknown_tournament_is_not_found(client):
    response = client.get(reverse("participants:search", args=["nope"]), {"q": "anna"})
    assert response.status_code == 404
