"""Scale-out on this machine: two gunicorn app servers behind HAProxy (ops/scaleout.py), one
PostgreSQL (the test database) and one Redis (a throwaway redis-server).

200 clients, each from its own loopback address, load the sign-up form through the balancer and
then submit at the same moment for one slot with 5 places: exactly 5 are confirmed, every other
one is told the slot filled, nobody sees a 5xx, and both servers took part. Rate limits are
counted in the shared Redis: one address gets exactly its limit across both servers (the
negative control, each server counting in its own memory, lets through more).
"""

import http.client
import re
import threading
from collections import Counter
from urllib.parse import urlencode

import pytest
from django.db import connection

from ops.scaleout import cluster
from tests.factories import ParticipantFactory, SlotFactory

# The clusters' tests run one after another on one xdist worker (`--dist loadgroup`), so
# two sets of servers never fight for the two cores at once.
pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.xdist_group("clusters"),
    pytest.mark.django_db(transaction=True),
]

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY_INPUT = re.compile(r'name="idempotency_key" value="([^"]+)"')
RACERS = 200


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Visitor:
    """One browser on its own loopback address, with a cookie jar."""

    def __init__(self, port: int, address: str):
        self.port, self.address, self.cookies = port, address, {}

    def request(self, method, path, form=None):
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(self.address, 0)
        )
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read().decode()
        finally:
            connection.close()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return response.status, response.getheader("X-Lineup-Server", ""), content


@pytest.fixture
def hot_slot():
    return SlotFactory(capacity=5, tournament__requires_proof_of_work=False)


def test_200_clients_race_for_5_places_through_two_servers(hot_slot, redis_url):
    people = ParticipantFactory.create_batch(RACERS)
    tournament = hot_slot.tournament
    with cluster(database_url(), redis_url) as running:
        visitors = [Visitor(running.port, f"127.0.1.{n + 1}") for n in range(RACERS)]
        paths = [
            f"/t/{tournament.slug}/sign-up/?participant={p.pk}&slot={hot_slot.pk}" for p in people
        ]
        forms, servers = [], Counter()
        for visitor, path in zip(visitors, paths, strict=True):
            status, server, page = visitor.request("GET", path)
            assert status == 200, page[:300]
            servers[server] += 1
            forms.append(
                {
                    "csrfmiddlewaretoken": CSRF_INPUT.search(page).group(1),
                    "idempotency_key": KEY_INPUT.search(page).group(1),
                    "slot": str(hot_slot.pk),
                    "contact_email": "racer@example.com",
                }
            )
        start, outcomes = threading.Barrier(RACERS), Counter()
        lock = threading.Lock()

        def submit(visitor, path, form):
            start.wait()
            try:
                status, server, _ = visitor.request("POST", path, form)
            except OSError as exc:
                status, server = type(exc).__name__, ""
            with lock:
                outcomes[status] += 1
                servers[server] += 1

        threads = [
            threading.Thread(target=submit, args=args)
            for args in zip(visitors, paths, forms, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)

    assert outcomes == {302: 5, 409: RACERS - 5}, outcomes
    assert set(servers) == {"app1", "app2"}  # both servers answered
    hot_slot.refresh_from_db()
    assert hot_slot.reserved_count == 5
    assert hot_slot.registrations.exclude(status="cancelled").count() == 5


def search_statuses(redis_url, cache_url, limit=10, tries=30):
    """One address searches `tries` times through the balancer with a limit of `limit` an hour
    (an hour's window: a minute's could end between two of the searches and start a new count)."""
    with cluster(database_url(), cache_url, LINEUP_RATE_SEARCH=f"{limit}/h") as running:
        visitor = Visitor(running.port, "127.0.2.1")
        slug = SlotFactory._meta.model.objects.first().tournament.slug
        answers = [visitor.request("GET", f"/t/{slug}/find/?q=zoe") for _ in range(tries)]
    return Counter(status for status, _, _ in answers), {server for _, server, _ in answers}


def test_rate_limits_are_counted_across_both_servers(hot_slot, redis_url):
    statuses, servers = search_statuses(redis_url, redis_url)
    assert servers == {"app1", "app2"}
    assert statuses == {200: 10, 429: 20}


def test_negative_control_each_server_counting_alone_lets_more_through(hot_slot, redis_url):
    statuses, _ = search_statuses(redis_url, "locmemcache://")
    assert statuses[200] > 10  # the harness sees the difference a shared count makes
    assert 500 not in statuses
