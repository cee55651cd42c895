"""When no name holds every typed word: a school or grade typed beside the name narrows the
search, then the whole query's likeness to a name decides (a middle name not on file)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from participants import selectors
from participants.services import participant_create
from registrations.selectors import festival_search

pytestmark = pytest.mark.django_db


def person(first, last, **fields):
    return participant_create(actor="test", first_name=first, last_name=last, **fields)


@pytest.fixture
def people(db):
    person("Zoë", "Núñez", school="Lincoln Middle School", grade="7", external_id="LMS-0042")
    person("Zoë", "Park", school="Riverside High", grade="9th")
    person("Zoey", "Nunn", school="Riverside High", grade="8")
    # A short name that rapidfuzz's best part finds for "zoe lincoln" as well.
    person("Zoë", "Kim", school="Riverside High", grade="8")
    person("Anna", "Kowalska", school="Lycée Molière", grade="Grade 7")
    person("John", "Smith", school="Lincoln Middle School", grade="6")


def found(query):
    return [p.full_name for p in selectors.participant_search(query=query)]


@pytest.mark.parametrize("query", ["zoe lincoln", "ZOE LINC", "zoe lincon", "lincoln zoe"])
def test_a_school_typed_beside_the_name_finds_the_one_at_that_school(vendor, query):
    assert found(query) == ["Zoë Núñez"]


def test_a_school_is_matched_without_its_accents(vendor):
    assert found("anna moliere") == ["Anna Kowalska"]
    assert found("ana lycee") == ["Anna Kowalska"]


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("zoe 7th grade", ["Zoë Núñez"]),
        ("zoe grade 9", ["Zoë Park"]),
        ("zoe riverside 9", ["Zoë Park"]),
        ("anna 7 kowalska", ["Anna Kowalska"]),
        ("anna grade 7", ["Anna Kowalska"]),
    ],
)
def test_a_grade_typed_beside_the_name_narrows_to_that_grade(vendor, query, who):
    assert found(query) == who


def test_a_school_word_that_is_also_in_the_name_does_not_exclude_its_owner(vendor):
    person("Ada", "Lincoln", school="Hill School")
    assert found("ada lincoln") == ["Ada Lincoln"]
    # Narrowing by school, Ada Lincoln of Hill School still has "lincoln" in her name.
    assert found("ada lincoln 7") == ["Ada Lincoln"]


def test_a_middle_name_not_on_file_still_finds_the_person(vendor):
    assert found("Zoe Marie Nunez")[:1] == ["Zoë Núñez"]
    assert found("Anna Maria Kowalska")[:1] == ["Anna Kowalska"]


@pytest.mark.parametrize("query", ["Wolfgang Amadeus", "lincoln amadeus", "lincoln", "lincoln 7"])
def test_unrelated_words_or_a_school_alone_find_nobody(vendor, query):
    assert found(query) == []


def test_the_fallback_runs_only_when_every_word_in_the_name_finds_nobody(people):
    def statements(query):
        with CaptureQueriesContext(connection) as captured:
            selectors.participant_search(query=query)
        return [q["sql"] for q in captured if "participants_participant" in q["sql"]]

    assert len(statements("zoe nunez")) == 1
    narrowed = statements("zoe lincoln")
    # The search, every school and grade on file, then the narrowed search.
    assert len(narrowed) == 3 and "DISTINCT" in narrowed[1]
    # The schools and grades are kept for a while: one statement fewer the next time.
    assert len(statements("zoe lincoln")) == 2
    # No school or grade among the words: the whole query's likeness alone.
    assert len(statements("zoe marie nunez")) == 2


def test_the_festival_search_finds_a_name_and_school(people):
    _query, people_found = festival_search(query="zoe lincoln")
    assert [p.participant.full_name for p in people_found] == ["Zoë Núñez"]


def test_the_page_shows_what_it_always_showed(client, tournament, people):
    url = reverse("participants:search", args=[tournament.slug])
    html = client.get(url, {"q": "zoe lincoln"}).content.decode()
    assert "Zoë N." in html and "Lincoln Middle School" in html and "Grade 7" in html
    assert "Núñez" not in html and "LMS-0042" not in html
    assert "Zoë P." not in html and "Riverside" not in html
