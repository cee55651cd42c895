#!/usr/bin/env python3
"""Benchmark: a series leaderboard (participants, teams, schools) over 1,000 tournaments of
100 placed entries each, computed by `results.leaderboards.series_leaderboards`.

    .venv/bin/python bench/leaderboard.py                       # 1000 x 100, 5 runs
    .venv/bin/python bench/leaderboard.py --tournaments 200 --entries 50
    git show 647bc1a:results/leaderboards.py > /tmp/before.py
    .venv/bin/python bench/leaderboard.py --baseline /tmp/before.py   # side by side

With --baseline, the two implementations run in turn (before, after, before, ...) in one
process on the same data, so a busy machine's drift hits both alike.

Uses a database of its own (LEADERBOARD_BENCH_DATABASE_URL, else lineup_leaderboard_bench
on the DATABASE_URL server), migrated and filled once; a later run reuses the data.
Prints the median and best wall time, the median CPU time (this process and the database
backend serving it: on a shared machine CPU time moves less than wall time) and the number of
queries.
"""

import argparse
import importlib.util
import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCHOOLS = [f"School {n}" for n in range(60)]


def _database_url() -> str:
    url = os.environ.get("LEADERBOARD_BENCH_DATABASE_URL")
    if url:
        return url
    base = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lineup"))
    return urlunsplit(base._replace(path="/lineup_leaderboard_bench"))


def _create_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        name = parts.path.lstrip("/")
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _fill(tournaments: int, entries: int) -> None:
    from participants.models import Participant
    from registrations.models import Registration
    from results.models import Result, Series, SeriesTournament
    from tournaments.models import Tournament

    if Series.objects.filter(slug="bench").exists():
        return
    rng = random.Random(7)
    people = Participant.objects.bulk_create(
        Participant(first_name=f"First{n}", last_name=f"Last{n}", school=rng.choice(SCHOOLS))
        for n in range(entries * 20)
    )
    series = Series.objects.create(name="Bench season", slug="bench", best_per_school=3)
    for t in range(tournaments):
        tournament = Tournament.objects.create(
            name=f"Bench {t}",
            slug=f"bench-{t}",
            starts_on=date(2026, 1, 1),
            rules={
                "points": {"first": 10, "second": 7, "third": 5, "more": [3, 2, 1]},
                "participation": 1,
            },
        )
        chosen = rng.sample(people, entries)
        registrations = Registration.objects.bulk_create(
            Registration(tournament=tournament, participant=p, entrant_name=p.last_name)
            for p in chosen
        )
        Result.objects.bulk_create(
            Result(
                registration=r,
                tournament=tournament,
                participant_id=r.participant_id,
                place=n if n <= 10 else None,
            )
            for n, r in enumerate(registrations, 1)
        )
        SeriesTournament.objects.create(series=series, tournament=tournament, multiplier=1 + t % 2)
        if t % 100 == 99:
            print(f"  filled {t + 1} tournaments", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tournaments", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="Another version of results/leaderboards.py to time beside the current one.",
    )
    args = parser.parse_args()
    url = _database_url()
    _create_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("HTTPS", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from results.leaderboards import series_leaderboards
    from results.models import Series

    call_command("migrate", verbosity=0)
    _fill(args.tournaments, args.entries)
    # Fresh statistics, as autovacuum keeps them in production (it may be off on a test
    # server): the leaderboard's plan depends on the tables' sizes.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    series = Series.objects.get(slug="bench")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    versions = {"current": series_leaderboards}
    if args.baseline:
        spec = importlib.util.spec_from_file_location("baseline_leaderboards", args.baseline)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        versions = {"baseline": module.series_leaderboards, **versions}
    for compute in versions.values():  # warm up: caches, plans, the tables in memory
        compute(series=series)
    walls = {name: [] for name in versions}
    cpus = {name: [] for name in versions}
    for _ in range(args.runs):
        for name, compute in versions.items():
            with CaptureQueriesContext(connection) as queries:
                cpu, db, started = time.process_time(), _backend_cpu(backend), time.perf_counter()
                boards = compute(series=series)
                walls[name].append(time.perf_counter() - started)
                cpus[name].append((time.process_time() - cpu, _backend_cpu(backend) - db))
            print(
                f"  {name}: {walls[name][-1]:.3f} s wall, {cpus[name][-1][0]:.3f} s Python + "
                f"{cpus[name][-1][1]:.3f} s database CPU",
                file=sys.stderr,
            )
    results = sum(r.total_rows for r in boards.rankings[:1])
    load = os.getloadavg()[0]
    print(
        f"{len(boards.tournaments)} tournaments, {results} participants ranked, "
        f"{len(queries)} queries, load average {load:.1f}:"
    )
    for name in versions:
        python = statistics.median(c[0] for c in cpus[name])
        database = statistics.median(c[1] for c in cpus[name])
        print(
            f"  {name}: median {statistics.median(walls[name]):.3f} s, best "
            f"{min(walls[name]):.3f} s; CPU median {python:.3f} s Python + {database:.3f} s "
            "database"
        )


def _backend_cpu(pid: int) -> float:
    """CPU seconds the database backend `pid` has used (it runs on this machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
