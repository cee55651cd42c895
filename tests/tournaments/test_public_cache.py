"""The public tournament row is cached for a few seconds; every organizer change shows at once,
and the engine never decides with a stale copy."""

import time
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registrations import errors
from registrations import selectors as registration_selectors
from registrations import services as engine
from tests.admin_client import change_url, post_action
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory
from tests.tournaments.test_admin import tournament_form
from tournaments import selectors, services
from tournaments.models import Tournament

pytestmark = pytest.mark.django_db


def signup_page(client, tournament):
    return client.get(reverse("registrations:create", args=[tournament.slug]))


def test_the_public_tournament_is_read_once_then_served_from_the_cache(tournament):
    with CaptureQueriesContext(connection) as first:
        selectors.tournament_get_public(slug=tournament.slug)
    with CaptureQueriesContext(connection) as second:
        cached = selectors.tournament_get_public(slug=tournament.slug)
    assert len(first) == 1
    assert len(second) == 0
    assert cached.pk == tournament.pk and cached.name == tournament.name


def test_the_places_taken_are_never_served_from_the_cache(tournament):
    selectors.tournament_get_public(slug=tournament.slug)
    with CaptureQueriesContext(connection) as queries:
        fresh = registration_selectors.tournament_get_public_with_seats(slug=tournament.slug)
    assert len(queries) == 1
    assert fresh.seats_taken == 0


def test_an_unknown_or_draft_tournament_is_not_cached(client):
    draft = TournamentFactory(status=Tournament.Status.DRAFT)
    assert signup_page(client, draft).status_code == 404
    Tournament.objects.filter(pk=draft.pk).update(status=Tournament.Status.PUBLISHED)
    assert signup_page(client, draft).status_code == 200


def test_an_organizers_edit_in_the_admin_shows_on_the_next_page(
    client, organizer_client, tournament, django_capture_on_commit_callbacks
):
    assert tournament.name in signup_page(client, tournament).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = organizer_client.post(
            change_url(tournament), tournament_form(tournament, name="Violin Finals")
        )

    assert response.status_code == 302
    assert "Sign up for Violin Finals" in signup_page(client, tournament).content.decode()


def test_a_new_slug_takes_over_and_the_old_address_is_gone(
    client, tournament, django_capture_on_commit_callbacks
):
    old = tournament.slug
    signup_page(client, tournament)

    with django_capture_on_commit_callbacks(execute=True):
        engine.tournament_update(tournament=tournament, actor="test", slug="renamed")

    assert client.get(reverse("registrations:create", args=[old])).status_code == 404
    assert client.get(reverse("registrations:create", args=["renamed"])).status_code == 200


def test_closing_sign_up_in_the_admin_shows_at_once(
    client, organizer_client, tournament, django_capture_on_commit_callbacks
):
    assert 'id="signup-form"' in signup_page(client, tournament).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        post_action(organizer_client, Tournament, "close", [tournament])

    assert 'id="signup-form"' not in signup_page(client, tournament).content.decode()


def test_switching_on_proof_of_work_asks_for_it_on_the_next_form(
    client, tournament, django_capture_on_commit_callbacks
):
    assert "data-pow-challenge" not in signup_page(client, tournament).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        engine.tournament_update(tournament=tournament, actor="test", requires_proof_of_work=True)

    assert "data-pow-challenge" in signup_page(client, tournament).content.decode()


def test_a_changed_cap_is_forgotten_too(tournament, django_capture_on_commit_callbacks):
    selectors.tournament_get_public(slug=tournament.slug)
    with django_capture_on_commit_callbacks(execute=True):
        engine.tournament_set_max_participants(
            tournament=tournament, max_participants=3, actor="test"
        )
    assert selectors.tournament_get_public(slug=tournament.slug).max_participants == 3


def test_the_cache_is_forgotten_only_when_the_change_commits(
    tournament, django_capture_on_commit_callbacks
):
    selectors.tournament_get_public(slug=tournament.slug)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        engine.tournament_update(tournament=tournament, actor="test", name="Not Yet")
        # Not committed yet: another request must not re-cache the old row after a delete.
        assert selectors.tournament_get_public(slug=tournament.slug).name != "Not Yet"
    for callback in callbacks:
        callback()
    assert selectors.tournament_get_public(slug=tournament.slug).name == "Not Yet"


def test_a_change_made_outside_the_services_shows_after_the_timeout(tournament):
    selectors.tournament_get_public(slug=tournament.slug)
    Tournament.objects.filter(pk=tournament.pk).update(name="Changed In The Shell")
    assert selectors.tournament_get_public(slug=tournament.slug).name != "Changed In The Shell"

    later = time.time() + selectors.PUBLIC_CACHE_SECONDS + 1
    with mock.patch("django.core.cache.backends.locmem.time.time", return_value=later):
        fresh = selectors.tournament_get_public(slug=tournament.slug)
    assert fresh.name == "Changed In The Shell"


def test_the_engine_judges_an_entry_by_the_rules_it_reads_under_lock(tournament):
    """A page's cached copy may still allow typed names after the organizer switched them off:
    the engine refuses with the rules of the row it locks."""
    slot = SlotFactory(time_block__tournament=tournament)
    stale = selectors.tournament_get_public(slug=tournament.slug)
    Tournament.objects.filter(pk=tournament.pk).update(allows_typed_names=False)

    with pytest.raises(errors.InvalidEntry, match="Only listed participants"):
        engine.registration_create(
            tournament=stale, slot_id=slot.pk, entrant_name="Walk In", actor="public"
        )
    # A listed participant is still welcome under the new rules.
    registration = engine.registration_create(
        tournament=stale, slot_id=slot.pk, participant=ParticipantFactory(), actor="public"
    )
    assert registration.slot_id == slot.pk


def test_a_new_tournament_replaces_a_deleted_namesake_at_once(
    client, tournament, django_capture_on_commit_callbacks
):
    slug = tournament.slug
    signup_page(client, tournament)
    Tournament.objects.filter(pk=tournament.pk).delete()  # a superuser in the admin

    with django_capture_on_commit_callbacks(execute=True):
        created = services.tournament_create(actor="test", name="New One", slug=slug)

    assert client.get(reverse("registrations:create", args=[slug])).status_code == 404  # draft
    with django_capture_on_commit_callbacks(execute=True):
        services.tournament_publish(tournament=created, actor="test")
    assert "Sign up for New One" in signup_page(client, created).content.decode()
