"""The home page's "find yourself" across every published tournament."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from participants import search as participant_search
from participants.services import participant_create
from registrations import services
from registrations.selectors import festival_search
from tests.factories import SlotFactory, TournamentFactory
from tournaments.models import Tournament
from tournaments.services import tournament_close

pytestmark = pytest.mark.django_db


@pytest.fixture
def festival(db):
    piano = SlotFactory(time_block__tournament__name="Piano Solo", capacity=3)
    violin = SlotFactory(time_block__tournament__name="Violin Solo", capacity=2)
    TournamentFactory(name="Draft Show", status=Tournament.Status.DRAFT)
    TournamentFactory(name="Robot Teams", team_event=True)
    zoe = participant_create(
        actor="test", first_name="Zoë", last_name="Núñez", school="Lincoln MS", birth_year=2012
    )
    services.registration_create(
        tournament=piano.tournament, slot_id=piano.pk, participant=zoe, actor="test"
    )
    return piano, violin, zoe


def find(client, q):
    return client.get(reverse("tournaments:list"), {"q": q})


def test_one_result_per_person_with_where_they_are_and_what_they_can_still_enter(client, festival):
    piano, violin, zoe = festival
    response = find(client, "zoe nunes")  # a typo, no accents
    people = response.context["people"]
    assert [p.participant.pk for p in people] == [zoe.pk]
    (person,) = people
    assert [r.tournament.name for r in person.entered] == ["Piano Solo"]
    assert [t.name for t in person.can_enter] == ["Violin Solo"]  # not drafts, not team events
    html = response.content.decode()
    assert piano.location.name in html and "Lincoln MS" in html
    sign_up = reverse("registrations:create", args=[violin.tournament.slug])
    assert f'href="{sign_up}?participant={zoe.pk}"' in html
    assert "2 places left" in html


def test_it_shows_public_fields_only(client, festival):
    html = find(client, "Zoe Nunez").content.decode()
    assert "Zoë N." in html
    assert "Núñez" not in html
    assert "2012" not in html


def test_a_typo_finds_the_person_on_the_embedded_default_too(client, festival):
    # The fallback in place of pg_trgm (patching the vendor would change the other queries' SQL).
    simple = participant_search._search_simple
    with mock.patch.object(participant_search, "_search_postgresql", simple):
        people = find(client, "Zoe Nunes").context["people"]
    assert [p.participant.first_name for p in people] == ["Zoë"]


def test_no_match_and_too_short_are_explained(client, festival):
    assert "Nobody on the lists matches" in find(client, "Wolfgang").content.decode()
    response = find(client, "z")
    assert response.context["too_short"]
    assert 'href="#q"' in response.content.decode()


def test_the_search_runs_the_same_queries_for_one_or_many_tournaments(client, festival):
    counts = []
    for _ in range(2):
        cache.clear()  # the open tournaments are shared for a moment: count a search reading them
        with CaptureQueriesContext(connection) as queries:
            find(client, "zoe")
        counts.append(len(queries))
        for _ in range(5):
            SlotFactory()
    assert counts[0] == counts[1]


def test_searches_share_the_open_tournaments_until_one_changes(
    festival, django_capture_on_commit_callbacks
):
    _, violin, _ = festival
    with CaptureQueriesContext(connection) as first:
        festival_search(query="zoe nunez")
    with CaptureQueriesContext(connection) as second:
        (again,) = festival_search(query="zoe nunez")[1]
    assert len(second) == len(first) - 1  # no second read of the open tournaments
    assert [t.name for t in again.can_enter] == ["Violin Solo"]
    assert [t.places_left for t in again.can_enter] == [2]

    with django_capture_on_commit_callbacks(execute=True):
        tournament_close(tournament=violin.tournament, actor="test")
    (closed,) = festival_search(query="zoe nunez")[1]
    assert closed.can_enter == []


def test_the_list_without_a_search_is_unchanged(client, festival):
    response = client.get(reverse("tournaments:list"))
    assert response.context["people"] is None
    assert not response.context["filtered"]


@override_settings(LINEUP_RATE_SEARCH="2/h")
def test_the_festival_search_is_rate_limited_but_the_list_is_not(client, festival):
    assert [find(client, "zoe").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(reverse("tournaments:list")).status_code == 200
