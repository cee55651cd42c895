"""Whatever a client sends, a public page answers 4xx or "no matches", never 500: NUL bytes
(PostgreSQL refuses them in text), lone surrogates (they cannot be encoded) and 1 MB values,
in every query parameter and form field of every public URL."""

from urllib.parse import quote_from_bytes

import pytest
from django.urls import reverse

from registrations import services
from tests.conftest import form_data, signup_url
from tests.factories import TeamFactory, TournamentFactory

pytestmark = pytest.mark.django_db

# Percent-encoded, as a client puts them on the wire.
BAD_VALUES = {
    "nul": quote_from_bytes(b"a\x00b"),
    "surrogate": quote_from_bytes("zo\udcff".encode("utf-8", "surrogatepass")),
    "lone-high-surrogate": quote_from_bytes(b"\xed\xa0\x80ab"),
    "invalid-utf8": quote_from_bytes(b"\xff\xfe"),
    "megabyte": "x" * 1_000_000,
}


def assert_not_a_server_error(response, where):
    assert response.status_code < 500, f"{where}: {response.status_code}"
    assert response.status_code in (200, 302, 400, 404, 405, 409), where


@pytest.fixture
def public_urls(slot, participant):
    """Every public URL with the query parameters it reads."""
    tournament = slot.tournament
    team_event = TournamentFactory(team_event=True)
    TeamFactory(name="Wolves")
    registration = services.registration_create(
        tournament=tournament, slot_id=slot.pk, participant=participant, actor="test"
    )
    slug = tournament.slug
    return {
        reverse("tournaments:list"): ["category", "day", "open_now", "page"],
        reverse("tournaments:detail", args=[slug]): ["x"],
        reverse("tournaments:schedule", args=[slug]): ["day", "room"],
        reverse("participants:search", args=[slug]): ["q", "slot"],
        reverse("participants:search", args=[team_event.slug]): ["q", "slot"],
        reverse("registrations:create", args=[slug]): ["participant", "team", "slot"],
        reverse("registrations:detail", args=[registration.reference]): ["x"],
        reverse("registrations:cancel", args=[registration.reference]): ["x"],
        reverse("results:detail", args=[slug]): ["x"],
        reverse("results:csv", args=[slug]): ["x"],
    }


@pytest.mark.parametrize("kind", BAD_VALUES)
def test_bad_query_parameters_are_never_a_server_error(client, public_urls, kind):
    value = BAD_VALUES[kind]
    for url, params in public_urls.items():
        for param in params:
            where = f"{url}?{param}=<{kind}>"
            assert_not_a_server_error(client.get(f"{url}?{param}={value}"), where)
            # Beside a valid value, too: the search with a good name and a bad slot.
            assert_not_a_server_error(client.get(f"{url}?q=zoe&{param}={value}"), where)


@pytest.mark.parametrize("kind", BAD_VALUES)
def test_bad_values_in_the_find_yourself_search_find_nobody(client, tournament, kind):
    url = reverse("participants:search", args=[tournament.slug])
    response = client.get(f"{url}?q={BAD_VALUES[kind]}")
    assert response.status_code == 200


def post_form(client, url, data, field, value):
    body = "&".join(
        f"{k}={value if k == field else quote_from_bytes(str(v).encode())}"
        for k, v in {**data, field: ""}.items()
    )
    return client.post(url, body, content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("kind", BAD_VALUES)
def test_bad_values_in_any_sign_up_field_are_refused_not_a_crash(
    client, slot, participant, settings, kind
):
    settings.LINEUP_RATE_SIGNUP = "10000/m"
    typed = TournamentFactory(allows_typed_names=True, requires_proof_of_work=True)
    team = TeamFactory(name="Wolves")
    team_event = TournamentFactory(team_event=True, allows_typed_names=True)
    forms = [
        signup_url(slot.tournament, participant=participant.pk),
        signup_url(typed),
        signup_url(team_event, team=team.pk),
    ]
    fields = [
        "slot",
        "entrant_name",
        "members",
        "extra_members",
        "contact_name",
        "contact_email",
        "contact_phone",
        "idempotency_key",
        "pow_challenge",
        "pow_nonce",
    ]
    for url in forms:
        data = form_data(client, url, slot=slot.pk, contact_phone="5550101", entrant_name="Al")
        for field in fields:
            response = post_form(client, url, data, field, BAD_VALUES[kind])
            assert_not_a_server_error(response, f"POST {url} {field}=<{kind}>")


@pytest.mark.parametrize("kind", BAD_VALUES)
def test_bad_values_in_the_cancel_form_are_refused_not_a_crash(client, slot, participant, kind):
    registration = services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=participant, actor="test"
    )
    url = reverse("registrations:cancel", args=[registration.reference])
    response = post_form(client, url, {}, "reason", BAD_VALUES[kind])
    assert_not_a_server_error(response, f"cancel <{kind}>")
    if kind in ("nul", "megabyte"):  # refused; undecodable bytes read as U+FFFD are text
        assert response.status_code == 400
