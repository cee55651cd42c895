#!/usr/bin/env python
"""Benchmark: what polling the open data costs, in-process (Django's test client, no network).

For a tournament of 400 times (8 rooms x 50) with 200 entries, times each answer three ways:
built afresh (the cache emptied before each request), served from the cache (200 with the
body), and answered 304 to a client that sends its ETag back. Prints medians and p95 in
milliseconds and the ratios between them.

    .venv/bin/python bench/api_polling.py                 # 200 requests per cell
    .venv/bin/python bench/api_polling.py --requests 50
    .venv/bin/python bench/api_polling.py --database-url postgres://.../lineup_x

The database (default lineup_api_bench: its own) is created and migrated when missing; the
fixture is built once and kept.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lineup_api_bench"
SLUG = "bench-api"


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("HTTPS", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("LINEUP_RATE_API", "1000000/m")
    os.environ.setdefault("STATIC_MANIFEST", "0")  # no collectstatic needed
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def build_fixture() -> None:
    from django.core.management import call_command
    from django.utils import timezone

    from participants.models import Participant
    from registrations import services
    from tournaments.models import Location, Slot, TimeBlock, Tournament, TournamentLocation

    call_command("migrate", verbosity=0)
    if Tournament.objects.filter(slug=SLUG).exists():
        return  # built by an earlier run: the same fixture every time
    now = timezone.now()
    tournament = Tournament.objects.create(
        name="Bench festival",
        slug=SLUG,
        status=Tournament.Status.PUBLISHED,
        registration_opens_at=now - timedelta(days=1),
        registration_closes_at=now + timedelta(days=5),
        starts_on=(now + timedelta(days=7)).date(),
    )
    starts = (now + timedelta(days=7)).replace(hour=8, minute=0, second=0, microsecond=0)
    slots = []
    for r in range(8):
        room, _ = Location.objects.get_or_create(name=f"Bench room {r}", building="Bench hall")
        TournamentLocation.objects.create(tournament=tournament, location=room)
        block = TimeBlock.objects.create(
            tournament=tournament,
            location=room,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=10 * 50),
            slot_minutes=10,
            slot_capacity=2,
        )
        for i in range(50):
            slots.append(
                Slot(
                    time_block=block,
                    tournament=tournament,
                    location=room,
                    starts_at=starts + timedelta(minutes=10 * i),
                    ends_at=starts + timedelta(minutes=10 * (i + 1)),
                    number=i + 1,
                    capacity=2,
                )
            )
    Slot.objects.bulk_create(slots)
    for i, slot in enumerate(slots[:200]):
        person = Participant.objects.create(
            first_name=f"Bench{i}", last_name="Person", search_name=f"bench{i} person"
        )
        services.registration_create(
            tournament=tournament, slot_id=slot.pk, participant=person, actor="bench"
        )


def timed(client, url: str, n: int, *, fresh: bool, etag: bool) -> list[float]:
    from django.core.cache import cache

    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code)
    headers = {"If-None-Match": first["ETag"]} if etag else {}
    expected = 304 if etag else 200
    times = []
    for _ in range(n):
        if fresh:
            cache.clear()
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == expected, (url, response.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    ensure_database(args.database_url)
    setup_django(args.database_url)
    build_fixture()

    import django
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    urls = {
        "slots (page of 100)": f"/api/v1/tournaments/{SLUG}/slots?page_size=100",
        "tournament": f"/api/v1/tournaments/{SLUG}",
        "day schedule": f"/api/v1/tournaments/{SLUG}/schedule",
        "tournament feed (.ics)": f"/t/{SLUG}/calendar.ics",
        "embed page": f"/t/{SLUG}/embed/",
    }
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {args.requests} requests per cell, medians (p95) ms"
    )
    print("| answer | built afresh | from the cache | 304 | afresh / 304 |")
    print("|---|---|---|---|---|")
    for name, url in urls.items():
        cells = [
            timed(client, url, args.requests, fresh=True, etag=False),
            timed(client, url, args.requests, fresh=False, etag=False),
            timed(client, url, args.requests, fresh=False, etag=True),
        ]
        medians = [statistics.median(c) for c in cells]
        p95 = [statistics.quantiles(c, n=20)[18] for c in cells]
        shown = " | ".join(f"{m:.2f} ({p:.2f})" for m, p in zip(medians, p95, strict=True))
        print(f"| {name} | {shown} | {medians[0] / medians[2]:.0f}x |")


if __name__ == "__main__":
    main()
