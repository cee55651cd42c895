"""The JSON API through HTTP: what it shows (and never shows), pages, conditional GETs, the
rate limit, CORS and JSON refusals."""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from registrations import services as engine
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory, register

pytestmark = pytest.mark.django_db

API = "/api/v1"


def get_json(client, url, status=200, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def forget_answers():
    """Expire the cached answers (as the few seconds would), keeping when each was first seen."""
    for key in list(cache._cache):  # type: ignore[attr-defined]
        if "opendata:v1" in key and not key.endswith(":seen"):
            cache._delete(key)  # type: ignore[attr-defined]


def test_it_lists_published_tournaments_only(client, festival):
    TournamentFactory(name="Secret draft", status="draft")
    TournamentFactory(name="Gone", deleted_at=timezone.now())
    body = get_json(client, f"{API}/tournaments")
    assert [t["name"] for t in body["items"]] == ["Spring Piano Festival"]
    first = body["items"][0]
    assert first["places_left"] == 11  # six times of two, one place taken
    assert first["registration_open"] is True
    assert sorted(r["name"] for r in first["rooms"]) == ["Blue Room", "Green Room"]
    assert first["api_url"] == "http://testserver/api/v1/tournaments/spring-piano"


def test_it_pages_the_tournament_list(client, db):
    for _ in range(3):
        TournamentFactory()
    body = get_json(client, f"{API}/tournaments?page_size=2")
    assert (body["count"], body["pages"], len(body["items"])) == (3, 2, 2)
    assert body["previous"] is None
    assert body["next"] == "http://testserver/api/v1/tournaments?page_size=2&page=2"
    second = get_json(client, body["next"])
    assert len(second["items"]) == 1 and second["next"] is None
    assert second["previous"].endswith("page=1")
    empty = get_json(client, f"{API}/tournaments?page=9")
    assert empty["items"] == [] and empty["count"] == 3


def test_it_filters_the_list_like_the_home_page(client, festival):
    TournamentFactory(name="Chess", category="academic")
    body = get_json(client, f"{API}/tournaments?category=academic")
    assert [t["name"] for t in body["items"]] == ["Chess"]


def test_a_draft_is_unknown(client, db):
    TournamentFactory(slug="draft-one", status="draft")
    assert get_json(client, f"{API}/tournaments/draft-one", 404) == {
        "detail": "No such tournament."
    }


def test_the_detail_has_rooms_time_blocks_and_days(client, festival):
    _tournament, slots, _ = festival
    body = get_json(client, f"{API}/tournaments/spring-piano")
    assert [r["name"] for r in body["rooms"]] == ["Blue Room", "Green Room"]
    assert len(body["time_blocks"]) == 2
    assert body["time_blocks"][0]["slot_capacity"] == 2
    assert body["days"] == [slots[0].starts_at.date().isoformat()]
    assert body["places_left"] == 11 and body["is_full"] is False
    assert body["results_url"] is None
    assert body["calendar_url"] == "http://testserver/t/spring-piano/calendar.ics"
    assert body["embed_url"] == "http://testserver/t/spring-piano/embed/"


def test_slots_show_places_left_and_state(client, festival):
    _tournament, slots, _ = festival
    slots[1].status = "blocked"
    slots[1].save()
    SlotFactory(
        time_block=slots[2].time_block, number=9, starts_at=timezone.now() - timedelta(hours=1)
    )
    body = get_json(client, f"{API}/tournaments/spring-piano/slots")
    assert body["count"] == 7
    by_id = {item["id"]: item for item in body["items"]}
    assert by_id[str(slots[0].pk)]["places_left"] == 1
    assert by_id[str(slots[0].pk)]["state"] == "open"
    assert by_id[str(slots[0].pk)]["sign_up_url"].endswith(f"/sign-up/?slot={slots[0].pk}")
    assert by_id[str(slots[1].pk)]["state"] == "blocked"
    assert by_id[str(slots[1].pk)]["sign_up_url"] is None
    assert body["items"][0]["state"] == "past"  # soonest first
    upcoming = get_json(client, f"{API}/tournaments/spring-piano/slots?upcoming=true")
    assert upcoming["count"] == 6
    room = slots[3].location_id
    in_room = get_json(client, f"{API}/tournaments/spring-piano/slots?room={room}&state=open")
    assert [i["room"]["name"] for i in in_room["items"]] == ["Green Room"] * 3


def test_times_are_in_the_tournaments_zone(client, festival):
    tournament, slots, _ = festival
    tournament.time_zone = "Europe/Paris"  # the server's zone stays UTC
    tournament.save(update_fields=["time_zone"])
    body = get_json(client, f"{API}/tournaments/spring-piano/slots")
    first = body["items"][0]
    local = timezone.localtime(slots[0].starts_at, timezone.get_fixed_timezone(0)).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/Paris")
    )
    assert first["starts_at"] == local.isoformat()
    assert first["starts_at"][-6:] in ("+01:00", "+02:00")
    assert get_json(client, f"{API}/tournaments/spring-piano")["time_zone"] == "Europe/Paris"


def test_the_schedule_shows_display_names_only(client, festival):
    _tournament, slots, _entry = festival
    body = get_json(client, f"{API}/tournaments/spring-piano/schedule")
    assert body["day"] == slots[0].starts_at.date().isoformat()
    blue = body["rooms"][0]
    assert blue["room"]["name"] == "Blue Room"
    assert blue["slots"][0]["entrants"] == ["Zoë N."]
    assert blue["slots"][1]["entrants"] == []


def test_no_answer_carries_private_data(client, festival):
    _tournament, _slots, entry = festival
    urls = [
        f"{API}/tournaments",
        f"{API}/tournaments/spring-piano",
        f"{API}/tournaments/spring-piano/slots",
        f"{API}/tournaments/spring-piano/schedule",
    ]
    for url in urls:
        text = client.get(url).content.decode()
        for private in ("Núñez", "ana.nunez", "+33", "Ana ", "2012", entry.reference, "contact"):
            assert private not in text, (url, private)


def test_the_schedule_refuses_a_day_without_times(client, festival):
    body = get_json(client, f"{API}/tournaments/spring-piano/schedule?day=2001-01-01", 404)
    assert body == {"detail": "The tournament has no times on that day."}


def test_bad_parameters_are_a_json_422(client, festival):
    body = get_json(client, f"{API}/tournaments/spring-piano/schedule?day=2026-13-01", 422)
    assert body["detail"][0]["loc"] == ["query", "day"]
    get_json(client, f"{API}/tournaments?page=0", 422)
    get_json(client, f"{API}/tournaments?page_size=1000", 422)
    get_json(client, f"{API}/tournaments?category=knitting", 422)
    get_json(client, f"{API}/tournaments/spring-piano/slots?room=not-a-uuid", 422)


def test_unknown_addresses_under_the_api_are_json_404(client, db):
    for url in (f"{API}/nothing-here", f"{API}/tournaments/", "/api/v2/tournaments", "/api/"):
        body = get_json(client, url, 404)
        assert body["detail"].startswith("No such address in the API"), url


def test_a_conditional_get_is_answered_304(client, festival):
    url = f"{API}/tournaments/spring-piano/slots"
    first = client.get(url)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert first["Cache-Control"] == "public, max-age=10"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    since = client.get(url, headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    stale = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.json() == first.json()


def test_the_etag_changes_with_the_places_and_last_modified_stays_otherwise(client, festival):
    _tournament, slots, _ = festival
    url = f"{API}/tournaments/spring-piano/slots"
    first = client.get(url)
    forget_answers()
    same = client.get(url)
    assert same["ETag"] == first["ETag"]
    assert same["Last-Modified"] == first["Last-Modified"]
    register(slots[1], ParticipantFactory())
    cached = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert cached.status_code == 304  # within the cache's few seconds: the same answer
    forget_answers()
    changed = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    item = next(i for i in changed.json()["items"] if i["id"] == str(slots[1].pk))
    assert item["places_left"] == 1


def test_it_is_rate_limited_with_a_json_429(client, festival, settings):
    settings.LINEUP_RATE_API = "3/h"
    for _ in range(3):
        assert client.get(f"{API}/tournaments").status_code == 200
    response = client.get(f"{API}/tournaments/spring-piano")
    assert response.status_code == 429
    assert response.json() == {"detail": "Too many requests: wait a minute."}
    assert response["Retry-After"] == "60"


def test_other_sites_may_read_it(client, festival):
    response = client.get(f"{API}/tournaments", headers={"Origin": "https://school.example"})
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response
    preflight = client.options(
        f"{API}/tournaments/spring-piano/slots",
        headers={
            "Origin": "https://school.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "*"
    page = client.get("/t/spring-piano/", headers={"Origin": "https://school.example"})
    assert "Access-Control-Allow-Origin" not in page  # the HTML pages stay same-origin


def test_results_appear_once_published(client, festival):
    from results import services as results_services
    from results.checking import Placing

    tournament, slots, entry = festival
    other = register(slots[3], ParticipantFactory(first_name="Bo", last_name="Lind"))
    get_json(client, f"{API}/tournaments/spring-piano/results", 404)
    get_json(client, f"{API}/tournaments/spring-piano/results/standings", 404)
    results_services.results_record(
        tournament=tournament,
        placings=[Placing(entry.pk, place=1), Placing(other.pk, place=2)],
        actor="test",
    )
    get_json(client, f"{API}/tournaments/spring-piano/results", 404)  # a draft is private
    results_services.results_publish(tournament=tournament, actor="test")
    cache.clear()
    body = get_json(client, f"{API}/tournaments/spring-piano/results")
    assert body["standings_url"].endswith("/results/standings")
    standings = get_json(client, body["standings_url"])
    assert [(s["rank"], s["name"], s["place"]) for s in standings["items"]] == [
        (1, "Zoë N.", 1),
        (2, "Bo L.", 2),
    ]
    detail = get_json(client, f"{API}/tournaments/spring-piano")
    assert detail["results_url"].endswith("/api/v1/tournaments/spring-piano/results")


def test_a_busy_database_is_a_json_503(client, festival, monkeypatch):
    from django.db import OperationalError

    from opendata import api

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(api.registration_selectors, "tournament_get_public_with_seats", down)
    body = get_json(client, f"{API}/tournaments/spring-piano", 503)
    assert body["detail"].startswith("Database unavailable")


def test_the_openapi_document_is_served(client, db):
    body = get_json(client, f"{API}/openapi.json")
    assert body["openapi"].startswith("3.")
    assert "/api/v1/tournaments/{slug}/slots" in body["paths"]


def test_a_full_tournament_has_no_places_left(client, festival):
    tournament, slots, _ = festival
    tournament.max_participants = 2
    tournament.save()
    register(slots[2], ParticipantFactory())
    body = get_json(client, f"{API}/tournaments/spring-piano")
    assert body["is_full"] is True and body["places_left"] == 0
    listed = get_json(client, f"{API}/tournaments")["items"][0]
    assert listed["places_left"] == 0
    assert engine  # the engine made the entries above
    assert json.dumps(body)
