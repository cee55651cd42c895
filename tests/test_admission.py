"""The admission queue: beyond LINEUP_ADMISSION_RATE people per second, visitors to "find
yourself" and the sign-up form wait their turn in arrival order on an honest page (200,
Retry-After, Refresh, no script needed), keep their place when they come back, and are let
through once it is their turn; a submit is never held."""

import itertools
import threading

import pytest
from django.test import Client
from django.urls import reverse

from common import admission

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """The queue's clock, held still and moved by hand."""
    state = {"now": 1_000_000.0}
    monkeypatch.setattr(admission, "now", lambda: state["now"])
    admission.admission_reset()
    yield state
    admission.admission_reset()


@pytest.fixture
def queue_of_one_per_second(settings, clock):
    settings.LINEUP_ADMISSION_RATE = 1
    settings.LINEUP_ADMISSION_BURST = 0
    return clock


def search_url(tournament):
    return reverse("participants:search", args=[tournament.slug]) + "?q=zoe"


def is_queue_page(response):
    return "You are in the queue" in response.content.decode()


def test_without_a_rate_nobody_waits(tournament, settings, clock):
    settings.LINEUP_ADMISSION_RATE = 0
    for _ in range(20):
        response = Client().get(search_url(tournament))
        assert response.status_code == 200
        assert not is_queue_page(response)
        assert "Refresh" not in response


def test_arrivals_beyond_the_rate_wait_in_order_with_an_honest_page(
    tournament, queue_of_one_per_second
):
    first = Client().get(search_url(tournament))
    assert first.status_code == 200 and not is_queue_page(first)
    for expected in (1, 2, 3):
        response = Client().get(search_url(tournament))
        assert response.status_code == 200  # never a 5xx or a timeout
        assert is_queue_page(response)
        assert response["Retry-After"] == str(expected)
        assert response["Refresh"] == str(expected)  # browsers come back without script
        assert response["Cache-Control"] == "no-store"
        text = response.content.decode()
        assert f"about {expected} second" in text
        assert "Check again now" in text


def test_coming_back_keeps_the_place_and_lets_in_when_it_is_time(
    tournament, participant, queue_of_one_per_second
):
    Client().get(search_url(tournament))  # takes the free place
    waiting = Client()
    assert waiting.get(search_url(tournament))["Retry-After"] == "1"
    assert Client().get(search_url(tournament))["Retry-After"] == "2"

    queue_of_one_per_second["now"] += 0.5
    again = waiting.get(search_url(tournament))
    assert is_queue_page(again) and again["Retry-After"] == "1"  # not sent to the back
    queue_of_one_per_second["now"] += 0.5
    admitted = waiting.get(search_url(tournament))
    assert admitted.status_code == 200 and not is_queue_page(admitted)
    form = waiting.get(
        reverse("registrations:create", args=[tournament.slug]) + f"?participant={participant.pk}"
    )
    assert form.status_code == 200 and not is_queue_page(form)
    # The coming back took no new places: the next newcomer is third in line, 2 s away.
    assert Client().get(search_url(tournament))["Retry-After"] == "2"


def test_the_form_is_held_too_but_a_submit_never_is(tournament, queue_of_one_per_second):
    url = reverse("registrations:create", args=[tournament.slug])
    Client().get(url)
    assert is_queue_page(Client().get(url))
    response = Client().post(url, {"contact_email": "x@example.com"})
    assert not is_queue_page(response)
    assert response.status_code in (200, 302, 400)


def test_a_forged_cookie_takes_a_new_place(tournament, queue_of_one_per_second):
    Client().get(search_url(tournament))
    forger = Client()
    forger.cookies["lineup_queue"] = '{"a": 0}'
    response = forger.get(search_url(tournament))
    assert is_queue_page(response) and response["Retry-After"] == "1"


def test_other_pages_are_not_held(tournament, queue_of_one_per_second):
    for _ in range(5):
        response = Client().get(reverse("tournaments:detail", args=[tournament.slug]))
        assert response.status_code == 200 and not is_queue_page(response)


@pytest.fixture
def redis_cache(settings, redis_url):
    settings.CACHES = {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url}
    }
    admission.admission_reset()
    yield
    admission.admission_reset()


def test_the_shared_queue_in_redis_hands_out_one_place_each_in_order(redis_cache):
    """50 arrivals at once from threads (as from several servers): each gets its own place,
    exactly one interval apart after the burst, none twice."""
    assert admission._redis_client() is not None  # the shared schedule, not the fallback
    places, start = [], threading.Barrier(50)

    def arrive():
        start.wait()
        places.append(admission.admission_take(rate=100, burst=5))

    threads = [threading.Thread(target=arrive) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({p.admit_at for p in places}) == 50  # nobody shares a place
    # Those who wait are one interval apart: the schedule, not chance, decides.
    waiting = sorted(p.admit_at for p in places if p.wait > 0)
    assert len(waiting) >= 20
    gaps = {round(b - a, 4) for a, b in itertools.pairwise(waiting)}
    assert gaps == {0.01}
