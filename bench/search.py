#!/usr/bin/env python
"""Benchmark: the public "find yourself" search over 100,000 participants on PostgreSQL.

Times exact, prefix and one-typo queries, and two kinds the search serves only when no name
holds every typed word (a first name with the school, a middle name not on file), through the
sign-up page's search (one tournament: `registrations.selectors.entrant_search`) and the home
page's festival-wide search (`registrations.selectors.festival_search`), printing p50/p95 per
kind, then counts how many of 100 single-typo names still find their person (among the ten
shown) and prints the search's query plan.

    .venv/bin/python bench/search.py                      # 100,000 people, 200 queries a kind
    .venv/bin/python bench/search.py --people 20000 --queries 50
    .venv/bin/python bench/search.py --database-url postgres://.../lineup_x
    .venv/bin/python bench/search.py --statements         # + the database's own time (EXPLAIN)

The database (default SEARCH_BENCH_DATABASE_URL, else lineup_search_bench: its own, since the
fixture replaces everything in it) is created and migrated when missing; the fixture is built
once and kept while it holds `--people` participants.
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lineup_search_bench"
BENCH_SLUG = "bench-search"
FIRST = [
    "Ada",
    "Adam",
    "Aiko",
    "Aleksander",
    "Alice",
    "Amara",
    "Ana",
    "Anders",
    "Ari",
    "Astrid",
    "Ben",
    "Bianca",
    "Bo",
    "Carla",
    "Chloé",
    "Dario",
    "Dmitri",
    "Elena",
    "Emma",
    "Emil",
    "Farid",
    "Fatima",
    "Felix",
    "Frida",
    "Gerard",
    "Grace",
    "Hana",
    "Hugo",
    "Ida",
    "Íñigo",
    "Isla",
    "Jakub",
    "Jonas",
    "Jürgen",
    "Kai",
    "Kenji",
    "Lara",
    "Léa",
    "Liam",
    "Lina",
    "Lukas",
    "Łucja",
    "Maja",
    "Mateo",
    "Mei",
    "Mila",
    "Nadia",
    "Noah",
    "Noémie",
    "Oskar",
    "Øystein",
    "Paula",
    "Priya",
    "Rafael",
    "Rosa",
    "Sami",
    "Sofia",
    "Tariq",
    "Tomás",
    "Una",
    "Vera",
    "Wiktor",
    "Yara",
    "Yusuf",
    "Zoë",
]
# Surnames are built from syllables: ~20,000 of them, so most names are rare, as at a festival.
ONSETS = [
    "b",
    "br",
    "d",
    "f",
    "g",
    "h",
    "k",
    "kl",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "sch",
    "st",
    "t",
    "v",
    "w",
    "z",
]
VOWELS = ["a", "e", "i", "o", "u", "ä", "é", "ø", "ü", "ñ"]
CODAS = ["n", "r", "s", "l", "ck", "nd", "rt", "ssen", "mann", "ski", "ez", "ard", "berg"]


def surname(rng):
    syllables = rng.choice((2, 2, 3))
    name = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables))
    return (name + rng.choice(CODAS)).capitalize()


def setup(url):
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("HTTPS", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(people, seed=11):
    """`people` participants (one in ten with an external id searched for exactly), in one
    open individual tournament with 10,000 of them entered, and a second tournament."""
    from django.db import connection
    from django.utils import timezone

    from participants.models import Participant
    from registrations.models import Registration, new_short_reference
    from tests.factories import SlotFactory, TournamentFactory
    from tournaments.models import Tournament

    if Participant.objects.count() == people and Tournament.objects.filter(slug=BENCH_SLUG):
        return
    print(f"building the fixture: {people:,} participants ...", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE registrations_registration, participants_participant, "
            "participants_team, tournaments_tournament CASCADE"
        )
    rng = random.Random(seed)
    surnames = [surname(rng) for _ in range(20_000)]
    batch = []
    for n in range(people):
        person = Participant(
            first_name=rng.choice(FIRST),
            last_name=rng.choice(surnames),
            external_id=f"S-{n:07d}" if n % 10 == 0 else None,
            school=f"School {n % 300}",
        )
        person.search_name = person.folded_search_name()
        batch.append(person)
    Participant.objects.bulk_create(batch, batch_size=5000)
    tournament = TournamentFactory(slug=BENCH_SLUG, name="Bench Solo")
    TournamentFactory(slug=f"{BENCH_SLUG}-2", name="Bench Duo")
    slot = SlotFactory(tournament=tournament, time_block__tournament=tournament, capacity=30_000)
    entered = Participant.objects.order_by("?").values_list("pk", "first_name", "last_name")
    # Drawn apart from the model's default: 10,000 random draws of 23**6 collide about one
    # build in three, and the database's rule then refuses the whole batch.
    references: set[str] = set()
    while len(references) < 10_000:
        references.add(new_short_reference())
    Registration.objects.bulk_create(
        (
            Registration(
                tournament_id=tournament.pk,
                slot=slot,
                participant_id=pk,
                status=Registration.Status.CONFIRMED,
                entrant_name=f"{first} {last}",
                confirmed_at=timezone.now(),
                short_reference=reference,
            )
            for (pk, first, last), reference in zip(entered[:10_000], references, strict=True)
        ),
        batch_size=5000,
    )
    slot.reserved_count = 10_000
    slot.save(update_fields=["reserved_count"])
    tournament.registration_closes_at = timezone.now() + timedelta(days=30)
    tournament.save(update_fields=["registration_closes_at"])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def one_typo(rng, word):
    """One deletion, substitution, insertion or swap of neighbours, never in the first letter
    (people rarely get that wrong, and it would be a different name to anyone)."""
    i = rng.randrange(1, len(word))
    kind = rng.choice(("delete", "substitute", "insert", "swap"))
    letter = rng.choice("abcdefghijklmnoprstuvz")
    if kind == "delete":
        return word[:i] + word[i + 1 :]
    if kind == "substitute":
        return word[:i] + letter + word[i + 1 :]
    if kind == "insert":
        return word[:i] + letter + word[i:]
    if i == len(word) - 1:
        i -= 1
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def queries(rng, count):
    """(kind, query, participant id expected or None) for exact, prefix, typo and id, then a
    first name with the school ("Ada School 12") and a middle name not on file."""
    from participants.models import Participant

    everyone = list(
        Participant.objects.order_by("pk").values_list(
            "pk", "first_name", "last_name", "external_id", "school"
        )
    )
    sample = rng.sample(everyone, count * 10)  # the same people for the same seed
    out = []
    for pk, first, last, _, _ in sample[:count]:
        out.append(("exact", f"{first} {last}", pk))
        out.append(("prefix", f"{first[:3]} {last[:3]}", None))
        typed = (first, one_typo(rng, last)) if rng.random() < 0.7 else (one_typo(rng, first), last)
        out.append(("typo", " ".join(typed), pk))
    ids = [(pk, ext) for pk, _, _, ext, _ in sample if ext][:count]
    out.extend(("external id", ext, pk) for pk, ext in ids)
    # Words in no part of the name, which the search's fallback serves. Drawn last, so the
    # kinds above stay the same queries for the same seed.
    for pk, first, last, _, school in sample[:count]:
        out.append(("name + school", f"{first} {school}", pk))
        middle = rng.choice([name for name in FIRST if name != first])
        out.append(("middle name", f"{first} {middle} {last}", pk))
    return out


def measure(label, search, items, statements=False):
    """Wall time per search (p50, p95, max) and the app's own CPU time per search (p50); with
    `statements`, then the database's own execution time of the search's statements (EXPLAIN
    ANALYZE, summed per search), which a busy machine disturbs less than the wall time."""
    timings: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    found: dict[str, list[bool]] = {}
    for kind, query, expected in items:
        started, started_cpu = time.perf_counter(), time.process_time()
        ids = search(query)
        timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        cpu.setdefault(kind, []).append((time.process_time() - started_cpu) * 1000)
        if expected is not None:
            found.setdefault(kind, []).append(expected in ids)
    database = {}
    if statements:
        for kind, query, _ in items:
            database.setdefault(kind, []).append(statement_time(search, query))
    print(f"\n{label}")
    header = f"  {'kind':<13} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'app CPU':>8}"
    print(header + ("  db p50   db p95" if statements else "") + "  found")
    for kind, values in timings.items():
        q = statistics.quantiles(values, n=20)
        hits = found.get(kind)
        shown = f"{sum(hits)}/{len(hits)}" if hits else "-"
        db = ""
        if statements:
            d = database[kind]
            db = f" {statistics.median(d):>7.1f} {statistics.quantiles(d, n=20)[18]:>8.1f}"
        print(
            f"  {kind:<13} {len(values):>4} {statistics.median(values):>8.1f} {q[18]:>8.1f}"
            f" {max(values):>8.1f} {statistics.median(cpu[kind]):>8.1f}{db}  {shown}"
        )


def statement_time(search, query):
    """Milliseconds PostgreSQL spends executing the statements one search sends (each run
    again under EXPLAIN ANALYZE, after the search's own `set_config`, in one transaction)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        search(query)
    total = 0.0
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in captured.captured_queries:
            sql = statement["sql"]
            if "set_config" in sql:
                cursor.execute(sql)
            elif sql.startswith("SELECT"):
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                total += plan[0]["Execution Time"]
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="per kind")
    parser.add_argument(
        "--database-url", default=os.environ.get("SEARCH_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--statements",
        action="store_true",
        help="also the database's execution time of each search's statements (EXPLAIN ANALYZE)",
    )
    parser.add_argument(
        "--only", choices=("one", "festival"), help="measure one of the two searches only"
    )
    args = parser.parse_args()
    setup(args.database_url)
    build(args.people)

    from django.db import connection

    from registrations.selectors import entrant_search, festival_search
    from tournaments.models import Tournament

    tournament = Tournament.objects.get(slug=BENCH_SLUG)
    items = queries(random.Random(args.seed), args.queries)
    recall = [i for i in items if i[0] == "typo"][:100]
    warm = items[:20]

    def per_tournament(query):
        return [p.pk for p in entrant_search(tournament=tournament, query=query)]

    def festival(query):
        return [person.participant.pk for person in festival_search(query=query)[1]]

    for search in (per_tournament, festival):
        for _, query, _ in warm:
            search(query)
    version = f"{connection.pg_version // 10000}.{connection.pg_version % 100}"
    print(
        f"{args.people:,} participants; {platform.node()}, {os.cpu_count()} CPUs, "
        f"PostgreSQL {version}; {time.strftime('%Y-%m-%d %H:%M %Z')}; load {os.getloadavg()[0]:.1f}"
    )
    if args.only != "festival":
        measure("one tournament (sign-up page search)", per_tournament, items, args.statements)
    if args.only != "one":
        measure("festival-wide (home page search)", festival, items, args.statements)
    hits = sum(expected in per_tournament(query) for _, query, expected in recall)
    print(f"\nsingle-typo recall: {hits}/{len(recall)} find their person among the ten shown")
    misses = [q for _, q, expected in recall if expected not in per_tournament(q)][:10]
    if misses:
        print("  missed, e.g.: " + "; ".join(misses))
    explain(recall[0][1])


def explain(query):
    """The plan of the search's one statement, as PostgreSQL runs it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from participants.selectors import participant_search

    with CaptureQueriesContext(connection) as captured:
        participant_search(query=query)
    sql = next(
        q["sql"] for q in captured.captured_queries if "participants_participant" in q["sql"]
    )
    with connection.cursor() as cursor:
        for setting in captured.captured_queries:
            if "set_config" in setting["sql"]:
                cursor.execute(setting["sql"].replace("true)", "false)"))
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}")
        print(f"\nplan for {query!r}:")
        for (line,) in cursor.fetchall():
            print("  " + line)


if __name__ == "__main__":
    main()
