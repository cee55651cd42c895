#!/usr/bin/env python
"""Benchmark the reservation engine against PostgreSQL, beside the same transaction in raw SQL.

For each scenario (one hot slot, or reservations spread over 10,000 slots) and each number of
concurrent workers, two measurements run back to back on the same freshly reset data:

* engine: worker processes (not threads: no shared GIL), each with its own database
  connection opened before a start barrier, call `registrations.services.registration_create`
  in a loop for `--duration` seconds, each reservation for a participant nobody else uses;
* raw SQL: pgbench, written in C, runs the very same transaction (same tables, same locks, same
  conditional UPDATE, same two INSERTs) from a script this program generates, with as many
  clients. That is the most this machine's PostgreSQL can do for this transaction.

It prints reservations per second, p50/p99 latency, the engine/raw ratio, failures by kind,
the CPU one reservation costs on each side (Python and PostgreSQL backend, read from /proc
when the database is local) and the SQL statements one reservation needs (captured inside a
worker). Any failure other than "full" makes the exit status non-zero.

    .venv/bin/python bench/reserve.py              # the default run, about 2-3 minutes
    .venv/bin/python bench/reserve.py --quick      # a smoke run in well under a minute
    .venv/bin/python bench/reserve.py --repeat 3   # medians of three runs
    .venv/bin/python bench/reserve.py --profile 500  # where one worker's time goes

The benchmark database (default `lineup_bench`) is created and migrated on first use; its
registrations are wiped before every measurement, so it refuses to run on a database that
holds anything but its own fixture.
"""

import argparse
import multiprocessing
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lineup_bench"
BENCH_SLUG = "bench-reserve"
ACTOR = "bench"
# Slot.capacity is a smallint: the hot slot gets the most it can hold so "full" stays rare.
HOT_CAPACITY = 32767
SPREAD_CAPACITY = 1000
# Deterministic primary keys, so pgbench can name the n-th participant or slot in SQL.
PARTICIPANT_PREFIX = "00000000-0000-4000-8000-"
SLOT_PREFIX = "00000000-0000-4000-9000-"
HOT_SLOT_NUMBER = 0
# Reservations each engine worker makes before the clock starts (psycopg prepares at the 5th).
WARM_UP = 6
BARRIER_BROKEN = "start barrier broken"


def participant_id(n):
    return uuid.UUID(f"{PARTICIPANT_PREFIX}{n:012x}")


def slot_id(n):
    return uuid.UUID(f"{SLOT_PREFIX}{n:012x}")


def _sql_uuid(prefix, number_sql):
    return f"('{prefix}' || lpad(to_hex({number_sql}), 12, '0'))::uuid"


# --- command line ----------------------------------------------------------------------------


def _counts(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 1,8,32,64, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("worker counts must be positive")
    return values


def _scenarios(text):
    values = [v.strip() for v in text.split(",") if v.strip()]
    unknown = set(values) - {"hot", "spread"}
    if not values or unknown:
        raise argparse.ArgumentTypeError("scenarios are hot and/or spread, e.g. hot,spread")
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="bench/reserve.py",
        description="Reservations per second and latency of the reservation engine, beside "
        "pgbench running the same transaction in raw SQL.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help="benchmark database (created and migrated if missing; its registrations are "
        "wiped). Also read from BENCH_DATABASE_URL.",
    )
    parser.add_argument("--workers", type=_counts, default=[1, 8, 32, 64], help="worker counts")
    parser.add_argument("--scenarios", type=_scenarios, default=["hot", "spread"])
    parser.add_argument(
        "--duration", type=int, default=5, help="seconds per measurement (whole seconds: pgbench)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2 s per measurement, 1 and 8 workers"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of the whole matrix; medians")
    parser.add_argument("--slots", type=int, default=10_000, help="slots in the spread scenario")
    parser.add_argument(
        "--participants",
        type=int,
        default=300_000,
        help="participants in the fixture; one measurement uses each at most once",
    )
    parser.add_argument(
        "--existing",
        type=int,
        default=0,
        help="confirmed registrations already in the tournament before each measurement, "
        "as in an event in full swing",
    )
    parser.add_argument(
        "--server-side-binding",
        action="store_true",
        help="experiment: engine workers use psycopg server-side binding with prepared "
        "statements (DATABASES OPTIONS server_side_binding=True, prepare_threshold=5); the "
        "project's settings stay as they are",
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="instead of the matrix: N reservations in this process (spread slots) under "
        "cProfile; prints CPU per reservation and the costliest functions",
    )
    parser.add_argument("--no-pgbench", action="store_true", help="measure the engine only")
    parser.add_argument("--pgbench", default=None, help="pgbench binary (found if not given)")
    parser.add_argument(
        "--show-sql",
        action="store_true",
        help="print the engine's statements for one reservation and the pgbench script",
    )
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    parser.add_argument(
        "--strict", action="store_true", help="exit non-zero when a target is missed too"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the fixture")
    parser.add_argument("--seed", type=int, default=20_240_601, help="slot choice seed")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 2)
        if args.workers == [1, 8, 32, 64]:
            args.workers = [1, 8]
    if args.duration <= 0 or args.repeat < 1 or args.slots < 1 or args.existing < 0:
        parser.error("--duration, --repeat and --slots must be positive, --existing >= 0")
    if args.participants < 1000:
        parser.error("--participants must be at least 1000")
    if args.profile is not None and not 1 <= args.profile <= args.participants // 2:
        parser.error("--profile needs a count between 1 and half of --participants")
    if not args.no_pgbench and args.profile is None:
        args.pgbench = args.pgbench or _find_pgbench()
        if not args.pgbench:
            parser.error("pgbench not found: install PostgreSQL's client tools or --no-pgbench")
    return args


def _find_pgbench():
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True)
    return str(candidates[0]) if candidates else None


# --- database and fixture --------------------------------------------------------------------


def ensure_database(url):
    """Create the benchmark database if it does not exist yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise SystemExit(f"--database-url needs a database name: {url}")
    maintenance = parts._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                print(f"Creating database {name}")
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        raise SystemExit(f"Cannot reach PostgreSQL at {maintenance}: {exc}") from exc


def hold_database(url):
    """One run at a time per database: a second one would wipe the first one's data."""
    import psycopg

    guard = psycopg.connect(url, autocommit=True)
    held = guard.execute("SELECT pg_try_advisory_lock(hashtext('lineup bench/reserve.py'))")
    if not held.fetchone()[0]:
        raise SystemExit("Another bench/reserve.py run is using this database; wait for it.")
    return guard


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    # DEBUG off: with it on, Django logs every statement, which costs time and memory.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("HTTPS", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("axes").setLevel(logging.WARNING)  # its start-up banner is noise here

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


@dataclass
class Fixture:
    tournament_id: uuid.UUID
    slots: int
    participants: int  # the pool measurements draw from: numbers 1..participants
    existing: int = 0  # registrations in place before each measurement: the next numbers


def _refuse_foreign_data():
    from tournaments.models import Tournament

    others = Tournament.objects.exclude(slug=BENCH_SLUG).count()
    if others:
        raise SystemExit(
            f"This database holds {others} tournament(s) besides the benchmark's own. "
            "bench/reserve.py wipes registrations before each measurement, so it only runs on "
            "a database of its own: pass --database-url .../lineup_bench"
        )


def _fixture_is_current(tournament, slots, people):
    from django.utils import timezone

    from participants.models import Participant
    from tournaments.models import Slot

    soon = timezone.now() + timedelta(days=2)
    if tournament.registration_closes_at and tournament.registration_closes_at < soon:
        return False
    ours = Slot.objects.filter(tournament=tournament)
    return (
        ours.count() == slots + 1
        and ours.filter(pk=slot_id(slots)).exists()
        and not ours.filter(starts_at__lt=soon).exists()
        and Participant.objects.filter(pk=participant_id(people)).exists()
        and Participant.objects.count() >= people
    )


def build_fixture(*, slots, participants, existing, rebuild):
    """One published tournament: a hot slot, `slots` spread slots, `participants` people
    (plus `existing` more who hold the registrations in place before each measurement).

    Kept between runs when it still fits; the engine's rules (window open, slots in the
    future) hold for a year after it is built.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from tournaments.models import Location, Slot, TimeBlock, Tournament, TournamentLocation

    _refuse_foreign_data()
    tournament = Tournament.objects.filter(slug=BENCH_SLUG).first()
    people = participants + existing
    if tournament and not rebuild and _fixture_is_current(tournament, slots, people):
        return Fixture(tournament.pk, slots, participants, existing)

    print(f"Building the fixture: 1 + {slots:,} slots, {people:,} participants ...")
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        _wipe_everything(cursor)
        now = timezone.now()
        tournament = Tournament.objects.create(
            name="Reservation benchmark",
            slug=BENCH_SLUG,
            status=Tournament.Status.PUBLISHED,
            registration_opens_at=now - timedelta(days=1),
            registration_closes_at=now + timedelta(days=365),
        )
        hall = Location.objects.create(name="Benchmark Hall")
        TournamentLocation.objects.create(tournament=tournament, location=hall)
        first_start = (now + timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
        # One block for the hot slot, then blocks of 1,000 five-minute slots for the spread.
        plan = [(HOT_SLOT_NUMBER, HOT_CAPACITY)] + [
            (n, SPREAD_CAPACITY) for n in range(1, slots + 1)
        ]
        per_block = 1000
        new_slots = []
        for block_start in range(0, len(plan), per_block):
            chunk = plan[block_start : block_start + per_block]
            starts = first_start + timedelta(minutes=5 * block_start)
            block = TimeBlock.objects.create(
                tournament=tournament,
                location=hall,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=5 * len(chunk)),
                slot_minutes=5,
                slot_capacity=SPREAD_CAPACITY,
            )
            for i, (number, capacity) in enumerate(chunk):
                begins = starts + timedelta(minutes=5 * i)
                new_slots.append(
                    Slot(
                        id=slot_id(number),
                        time_block=block,
                        tournament=tournament,
                        location=hall,
                        starts_at=begins,
                        ends_at=begins + timedelta(minutes=5),
                        number=i + 1,
                        capacity=capacity,
                    )
                )
        Slot.objects.bulk_create(new_slots, batch_size=2000)
        # Participants in one statement: hundreds of thousands of ORM objects take minutes.
        # If the table gained a column this misses, PostgreSQL says which; update it here.
        cursor.execute(
            f"""
            INSERT INTO participants_participant
                (id, created_at, updated_at, external_id, first_name, last_name, display_name,
                 birth_year, grade, school, team_id, metadata, search_name)
            SELECT {_sql_uuid(PARTICIPANT_PREFIX, "n")}, now(), now(), NULL, 'Bench',
                   'Participant ' || n, '', 2010, '', '', NULL, '{{}}'::jsonb,
                   'bench participant ' || n
            FROM generate_series(1, %s) AS n
            """,
            [people],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  done in {time.monotonic() - started:.1f} s")
    return Fixture(tournament.pk, slots, participants, existing)


def _wipe_everything(cursor):
    cursor.execute(
        "TRUNCATE registrations_registrationmember, registrations_registration, "
        "common_auditevent, tournaments_slot, tournaments_timeblock, "
        "tournaments_tournamentlocation, tournaments_tournament, tournaments_location, "
        "participants_participant, participants_team CASCADE"
    )


def reset(fixture):
    """Empty every registration and count, put back the `existing` ones, then checkpoint.

    Every measurement starts from the same state, with fresh planner statistics.
    """
    from django.db import connection

    with connection.cursor() as cursor:  # autocommit, so VACUUM may run
        cursor.execute(
            "TRUNCATE registrations_registrationmember, registrations_registration, "
            "common_auditevent CASCADE"
        )
        cursor.execute(
            "UPDATE tournaments_slot SET reserved_count = 0, version = 1 "
            "WHERE tournament_id = %s AND (reserved_count <> 0 OR version <> 1)",
            [fixture.tournament_id],
        )
        if fixture.existing:
            # Confirmed sign-ups of people outside the pool, a few per spread slot.
            cursor.execute(
                f"""
                INSERT INTO registrations_registration (id, created_at, updated_at,
                    tournament_id, slot_id, participant_id, team_id, seats, status,
                    entrant_name, contact_name, contact_email, contact_phone, reference,
                    idempotency_key, confirmed_at, checked_in_at, cancelled_at, cancel_reason,
                    hold_expires_at, override_reason, override_seats, version)
                SELECT gen_random_uuid(), now(), now(), %(tournament)s,
                    {_sql_uuid(SLOT_PREFIX, "1 + n %% %(slots)s")},
                    {_sql_uuid(PARTICIPANT_PREFIX, "n")}, NULL, 1, 'confirmed',
                    'Bench Participant ' || n, '', '', '', md5(n::text || random()::text),
                    NULL, now(), NULL, NULL, '', NULL, '', 0, 1
                FROM generate_series(%(first)s, %(last)s) AS n
                """,
                {
                    "tournament": fixture.tournament_id,
                    "slots": fixture.slots,
                    "first": fixture.participants + 1,
                    "last": fixture.participants + fixture.existing,
                },
            )
            cursor.execute(
                "UPDATE tournaments_slot s SET reserved_count = c.n"
                " FROM (SELECT slot_id, count(*) AS n FROM registrations_registration"
                "       GROUP BY slot_id) c WHERE s.id = c.slot_id"
            )
        cursor.execute("VACUUM (ANALYZE) tournaments_slot")
        cursor.execute("ANALYZE registrations_registration, registrations_registrationmember")
        cursor.execute("CHECKPOINT")
    connection.close()


def count_outcome(fixture):
    """(registrations, reserved places, audit events) added by a measurement."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM registrations_registration),"
            " (SELECT coalesce(sum(reserved_count), 0) FROM tournaments_slot"
            "  WHERE tournament_id = %s),"
            " (SELECT count(*) FROM common_auditevent)",
            [fixture.tournament_id],
        )
        registrations, places, audits = (int(v) for v in cursor.fetchone())
    connection.close()
    return registrations - fixture.existing, places - fixture.existing, audits


# --- the engine side -------------------------------------------------------------------------


@dataclass
class WorkerReport:
    index: int
    started: float = 0.0
    finished: float = 0.0
    latencies: array = field(default_factory=lambda: array("d"))
    failures: Counter = field(default_factory=Counter)
    samples: dict = field(default_factory=dict)
    statements: list = field(default_factory=list)
    setup_error: str = ""
    client_cpu: float = 0.0  # seconds of this process's CPU in the timed loop
    server_cpu: float | None = None  # seconds of its PostgreSQL backend's CPU, if local


def backend_cpu(pid):
    """CPU seconds a local PostgreSQL backend has used so far, or None if it is not ours to see."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _failure_kind(exc):
    from common.locking import Busy
    from registrations.errors import RegistrationError, SlotFull

    if isinstance(exc, SlotFull):
        return "full"
    if isinstance(exc, Busy):
        return "busy"
    if isinstance(exc, RegistrationError):
        return type(exc).__name__
    return f"error:{type(exc).__name__}"


def _engine_worker(index, workers, plan, fixture, barrier, results):
    """One process: connect, warm up (captured), wait for the others, reserve until time's up."""
    import random

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from participants.models import Participant
    from registrations.services import registration_create
    from tournaments.models import Tournament

    report = WorkerReport(index)
    scenario, duration = plan.scenario, plan.duration
    rng = random.Random(plan.seed * 1000 + index)
    # Participant numbers index+1, index+1+workers, ...: nobody is booked twice.
    numbers = iter(range(index + 1, fixture.participants + 1, workers))

    def reserve(number, slot_number=None):
        if slot_number is None:
            slot_number = HOT_SLOT_NUMBER if scenario == "hot" else rng.randint(1, fixture.slots)
        # What a view holds after reading the form: the chosen slot and participant.
        registration_create(
            tournament=tournament,
            slot_id=slot_id(slot_number),
            participant=Participant(
                id=participant_id(number), first_name="Bench", last_name=f"Participant {number}"
            ),
            actor=ACTOR,
        )

    try:
        if plan.server_side_binding:
            connection.settings_dict["OPTIONS"].update(
                server_side_binding=True, prepare_threshold=5
            )
        connection.ensure_connection()  # connection set-up stays out of the timed region
        tournament = Tournament.objects.get(pk=fixture.tournament_id)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        # Warm up (and let psycopg prepare its statements, if it does) on a quiet slot of
        # this worker's own, so that no warm-up waits for a lock; the first one is captured.
        quiet_slot = 1 + index % fixture.slots
        for attempt in range(WARM_UP):
            with CaptureQueriesContext(connection) as captured:
                reserve(next(numbers), quiet_slot)
            if not attempt:
                report.statements = [q["sql"] for q in captured.captured_queries]
    except Exception as exc:
        report.setup_error = f"{type(exc).__name__}: {exc}"
        barrier.abort()
        results.put(report)
        connection.close()
        return

    try:
        barrier.wait(timeout=120)
    except Exception:  # another worker failed to start: it reports why
        report.setup_error = BARRIER_BROKEN
        results.put(report)
        connection.close()
        return

    clock = time.perf_counter
    server_cpu, client_cpu = backend_cpu(backend), time.process_time()
    report.started = started = clock()
    deadline = started + duration
    latencies = report.latencies
    while True:
        begin = clock()
        if begin >= deadline:
            break
        number = next(numbers, None)
        if number is None:
            report.failures["participant pool exhausted (raise --participants)"] += 1
            break
        try:
            reserve(number)
        except Exception as exc:
            kind = _failure_kind(exc)
            report.failures[kind] += 1
            report.samples.setdefault(kind, str(exc)[:300])
        else:
            latencies.append(clock() - begin)
    report.finished = clock()
    report.client_cpu = time.process_time() - client_cpu
    if server_cpu is not None and (now := backend_cpu(backend)) is not None:
        report.server_cpu = now - server_cpu
    connection.close()
    results.put(report)


@dataclass
class Measurement:
    rate: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    done: int = 0
    failures: Counter = field(default_factory=Counter)
    samples: dict = field(default_factory=dict)
    statements: list = field(default_factory=list)
    consistent: bool = True
    # CPU milliseconds per reservation: the Python side (engine only) and the database side.
    client_cpu_ms: float | None = None
    server_cpu_ms: float | None = None


def _percentile(values, fraction):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass(frozen=True)
class EnginePlan:
    scenario: str
    duration: float
    seed: int
    server_side_binding: bool = False


def run_engine(*, plan, workers, fixture):
    from django.db import connections

    context = multiprocessing.get_context("fork")  # children inherit the loaded Django
    barrier = context.Barrier(workers)
    results = context.Queue()
    connections.close_all()  # never share the parent's socket with a child
    processes = [
        context.Process(
            target=_engine_worker,
            args=(i, workers, plan, fixture, barrier, results),
            daemon=True,
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    reports = []
    try:
        for _ in processes:
            reports.append(results.get(timeout=plan.duration + 300))
    except Exception as exc:
        raise SystemExit(f"engine workers did not report back: {exc!r}") from exc
    for process in processes:
        process.join(timeout=30)

    measurement = Measurement()
    setup_errors = [r.setup_error for r in reports if r.setup_error]
    if setup_errors:
        causes = [e for e in setup_errors if e != BARRIER_BROKEN] or setup_errors
        measurement.failures["worker could not start"] = len(causes)
        measurement.samples["worker could not start"] = causes[0]
        return measurement
    latencies = [v for r in reports for v in r.latencies]
    for r in reports:
        measurement.failures.update(r.failures)
        for kind, text in r.samples.items():
            measurement.samples.setdefault(kind, text)
    elapsed = max(r.finished for r in reports) - min(r.started for r in reports)
    measurement.done = len(latencies)
    measurement.rate = len(latencies) / elapsed if elapsed > 0 else 0.0
    measurement.p50_ms = _percentile(latencies, 0.50) * 1000
    measurement.p99_ms = _percentile(latencies, 0.99) * 1000
    measurement.statements = min((r.statements for r in reports), key=len)
    attempts = measurement.done + sum(measurement.failures.values())
    if attempts:
        measurement.client_cpu_ms = 1000 * sum(r.client_cpu for r in reports) / attempts
        if all(r.server_cpu is not None for r in reports):
            measurement.server_cpu_ms = 1000 * sum(r.server_cpu for r in reports) / attempts
    counts = {len(r.statements) for r in reports}
    if len(counts) > 1:
        measurement.samples["statements"] = f"workers saw different counts: {sorted(counts)}"
    # Warm-up reservations count too.
    registrations, seats, audits = count_outcome(fixture)
    expected = measurement.done + workers * WARM_UP
    measurement.consistent = registrations == seats == audits == expected
    if not measurement.consistent:
        measurement.failures["inconsistent counts"] += 1
        measurement.samples["inconsistent counts"] = (
            f"{expected} reservations succeeded but the database holds {registrations} "
            f"registrations, {seats} reserved places and {audits} audit events"
        )
    return measurement


# --- the raw-SQL side (pgbench) --------------------------------------------------------------


def pgbench_script(lock_timeout_ms):
    """The engine's reservation transaction, statement for statement, in pgbench's dialect.

    Same tables, locks and guards: lock the participant, lock the slot (with the tournament
    and the two "already entered / booked elsewhere" checks in the same query), the
    conditional UPDATE with the version check, the registration and the audit event. The
    checks the engine makes in Python cannot fail here (open tournament, future slots), so
    only the row count of the UPDATE decides between COMMIT and ROLLBACK ("full").
    """
    from tournaments.models import Slot, Tournament

    slot_columns = ", ".join(f's."{f.column}" AS s_{f.column}' for f in Slot._meta.concrete_fields)
    tournament_columns = ", ".join(
        f't."{f.column}" AS t_{f.column}' for f in Tournament._meta.concrete_fields
    )
    active = "('reserved', 'confirmed', 'checked_in', 'no_show')"
    # As `Entry.active_registrations` builds it: the entrant's registrations by index.
    entered = (
        "SELECT 1 FROM registrations_registration r WHERE r.id IN ("
        "(SELECT id FROM registrations_registration WHERE participant_id IN (:participant))"
        " UNION (SELECT registration_id FROM registrations_registrationmember"
        " WHERE participant_id IN (:participant)))"
        f" AND r.status IN {active}"
    )
    return f"""\
-- Generated by bench/reserve.py: one reservation, as registration_create does it.
-- Variables from the command line: k (starts at -1), nclients, hot (1/0), slots.
\\set k :k + 1
\\set p 1 + :client_id + :k * :nclients
\\set s random(1, :slots) * (1 - :hot)
BEGIN;
SET LOCAL lock_timeout = '{int(lock_timeout_ms)}ms';
SELECT id AS participant FROM participants_participant
 WHERE id IN ({_sql_uuid(PARTICIPANT_PREFIX, ":p::bigint")}) ORDER BY 1 FOR UPDATE \\gset
SELECT {slot_columns}, NULL AS replay_id,
 EXISTS({entered} AND r.tournament_id = s.tournament_id LIMIT 1) AS already_entered,
 EXISTS({entered} AND r.slot_id IS NOT NULL AND NOT (r.tournament_id = s.tournament_id) LIMIT 1)
   AS booked_elsewhere,
 {tournament_columns}
 FROM tournaments_slot s JOIN tournaments_tournament t ON s.tournament_id = t.id
 WHERE s.id = {_sql_uuid(SLOT_PREFIX, ":s::bigint")} LIMIT 21 FOR UPDATE OF s \\gset
WITH claimed AS (
  UPDATE tournaments_slot
     SET reserved_count = reserved_count + 1, version = version + 1, updated_at = now()
   WHERE id = :s_id AND reserved_count <= (capacity + 0) - 1 AND version = :s_version
  RETURNING 1)
SELECT count(*) AS claimed FROM claimed \\gset
\\if :claimed
INSERT INTO registrations_registration (id, created_at, updated_at, tournament_id, slot_id,
  participant_id, team_id, seats, status, entrant_name, contact_name, contact_email,
  contact_phone, reference, idempotency_key, confirmed_at, checked_in_at, cancelled_at,
  cancel_reason, hold_expires_at, override_reason, override_seats, version)
VALUES (gen_random_uuid(), now(), now(), :t_id, :s_id, :participant, NULL, 1, 'confirmed',
  'Bench Participant ' || :p, '', '', '', md5(random()::text), NULL, now(), NULL, NULL, '',
  NULL, '', 0, 1)
RETURNING id AS registration \\gset
INSERT INTO common_auditevent (id, created_at, actor, action, target_type, target_id,
  tournament_id, payload)
VALUES (gen_random_uuid(), now(), '{ACTOR}', 'registration.create', 'registration',
  :registration, :t_id, jsonb_build_object('slot', :s_id::text, 'seats', 1,
  'entrant', 'Bench Participant ' || :p, 'status', 'confirmed'));
COMMIT;
\\else
ROLLBACK;
\\endif
"""


RAW_APPLICATION = "lineup-bench-raw"


def _watch_backends(url, stop, samples):
    """Every 0.2 s, note the CPU time of each pgbench backend: (time, {pid: seconds})."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            pids = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                [RAW_APPLICATION],
            ).fetchall()
            samples.append((time.time(), {pid: backend_cpu(pid) for (pid,) in pids}))
            stop.wait(0.2)


def _backend_cpu_per_transaction(samples, clients, finished_at):
    """Backend CPU ms per transaction between the first and last sample that saw them all.

    Leaves out the connection start-up, as the engine's figure does.
    """
    full = [
        (at, cpu)
        for at, cpu in samples
        if len(cpu) == clients and all(v is not None for v in cpu.values())
    ]
    if len(full) < 2:
        return None
    (start, first), (end, last) = full[0], full[-1]
    spent = sum(last[pid] - first[pid] for pid in last if pid in first)
    done = sum(1 for at in finished_at if start <= at <= end)
    return 1000 * spent / done if done else None


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _connection_options(url):
    parts = urlsplit(url)
    options = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    if parts.username:
        options += ["-U", unquote(parts.username)]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return options, env, unquote(parts.path.lstrip("/"))


def run_pgbench(*, pgbench, url, script, scenario, clients, fixture, duration, workdir):
    """Run pgbench with `clients` connections; parse its tps and the per-transaction log."""
    options, env, database = _connection_options(url)
    for old in workdir.glob("pgbench_log*"):
        old.unlink()
    command = [
        pgbench,
        *options,
        "--no-vacuum",
        "--protocol=prepared",
        f"--client={clients}",
        f"--jobs={min(clients, os.cpu_count() or 1)}",
        f"--time={duration}",
        f"--file={script}",
        "--define=k=-1",
        f"--define=nclients={clients}",
        f"--define=hot={1 if scenario == 'hot' else 0}",
        f"--define=slots={fixture.slots}",
        "--log",
        f"--log-prefix={workdir / 'pgbench_log'}",
        database,
    ]
    env["PGAPPNAME"] = RAW_APPLICATION
    samples, stop = [], threading.Event()
    watcher = threading.Thread(target=_watch_backends, args=(url, stop, samples), daemon=True)
    watcher.start()
    children_cpu = _children_cpu()
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    finally:
        stop.set()
        watcher.join()
    pgbench_cpu = _children_cpu() - children_cpu
    output = done.stdout + done.stderr
    measurement = Measurement()
    tps = re.search(r"^tps = ([\d.]+)", output, re.M)
    processed = re.search(r"number of transactions actually processed: (\d+)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    aborted = len(re.findall(r"^client \d+ aborted", output, re.M))
    if done.returncode != 0 or not tps:
        tail = " | ".join(line for line in output.strip().splitlines()[-4:])
        measurement.failures[f"pgbench exit {done.returncode}"] += 1
        measurement.samples[f"pgbench exit {done.returncode}"] = tail[:500]
    if aborted:
        measurement.failures["pgbench client aborted"] += aborted
        first = re.search(r"^client \d+ aborted.*$", output, re.M)
        measurement.samples["pgbench client aborted"] = first.group(0)[:300] if first else ""
    if failed and int(failed.group(1)):
        measurement.failures["pgbench failed transaction"] += int(failed.group(1))
    latencies, finished_at = [], []
    for log in workdir.glob("pgbench_log*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 6 and fields[2].isdigit():
                latencies.append(int(fields[2]) / 1000)  # microseconds -> ms
                finished_at.append(int(fields[4]) + int(fields[5]) / 1e6)
    transactions = int(processed.group(1)) if processed else len(latencies)
    if transactions:
        measurement.client_cpu_ms = 1000 * pgbench_cpu / transactions
    measurement.server_cpu_ms = _backend_cpu_per_transaction(samples, clients, finished_at)
    registrations, seats, audits = count_outcome(fixture)
    if not registrations == seats == audits:
        measurement.failures["inconsistent counts"] += 1
        measurement.samples["inconsistent counts"] = (
            f"pgbench left {registrations} registrations, {seats} places, {audits} audit events"
        )
    if transactions > fixture.participants:
        measurement.failures["participant pool exhausted (raise --participants)"] += 1
    full = max(transactions - registrations, 0)
    if full:
        measurement.failures["full"] += full
    measurement.done = registrations
    if tps and transactions:
        # pgbench's tps counts the "full" rollbacks too; count only real reservations.
        measurement.rate = float(tps.group(1)) * registrations / transactions
    measurement.p50_ms = _percentile(latencies, 0.50)
    measurement.p99_ms = _percentile(latencies, 0.99)
    return measurement


# --- reporting -------------------------------------------------------------------------------


def machine_summary():
    from django.db import connection

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or model
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        sync = cursor.fetchone()[0]
    connection.close()
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({model}), PostgreSQL {version} "
        f"(synchronous_commit={sync}), Python {platform.python_version()}, load average {load}"
    )


def _kinds(counter):
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counter.items())) or "-"


def print_statements(statements):
    control = [s for s in statements if s.strip().upper() in ("BEGIN", "COMMIT")]
    work = [s for s in statements if s.strip().upper() not in ("BEGIN", "COMMIT")]
    print(
        f"SQL statements per reservation: {len(statements)} in total = {len(work)} "
        f"+ {len(control)} transaction control ({' and '.join(control) or 'none'}; "
        "counted separately). Target: at most 6 besides BEGIN/COMMIT."
    )
    return len(work)


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(rows):
    """Median figures per (scenario, workers) over the repeats; failures summed."""
    table = []
    for key in dict.fromkeys((r[0], r[1]) for r in rows):
        runs = [(engine, raw) for s, w, engine, raw in rows if (s, w) == key]
        engines = [engine for engine, _ in runs]
        raws = [raw for _, raw in runs if raw]
        engine_failures, raw_failures = Counter(), Counter()
        for engine, raw in runs:
            engine_failures.update(engine.failures)
            if raw:
                raw_failures.update(raw.failures)
        engine_cpu = [_cpu(e) for e in engines]
        raw_cpu = [_cpu(r) for r in raws]
        table.append(
            {
                "scenario": key[0],
                "workers": key[1],
                "engine": _median(e.rate for e in engines),
                "p50": _median(e.p50_ms for e in engines),
                "p99": _median(e.p99_ms for e in engines),
                "raw": _median(r.rate for r in raws),
                "raw_p50": _median(r.p50_ms for r in raws),
                "raw_p99": _median(r.p99_ms for r in raws),
                # The median of each run's ratio: engine and pgbench ran back to back.
                "ratio": _median(e.rate / r.rate for e, r in runs if r and r.rate),
                "engine_failures": engine_failures,
                "raw_failures": raw_failures,
                "engine_py": _median(e.client_cpu_ms for e in engines),
                "engine_db": _median(e.server_cpu_ms for e in engines),
                "raw_client": _median(r.client_cpu_ms for r in raws),
                "raw_db": _median(r.server_cpu_ms for r in raws),
                "cpu_ratio": _median(
                    r / e for e, r in zip(engine_cpu, raw_cpu, strict=False) if e and r
                ),
            }
        )
    return table


def _cpu(measurement):
    """All CPU one reservation cost, client and database, in ms (None if unknown)."""
    if measurement.client_cpu_ms is None or measurement.server_cpu_ms is None:
        return None
    return measurement.client_cpu_ms + measurement.server_cpu_ms


def _other(counter):
    return Counter({k: v for k, v in counter.items() if k != "full"})


def _fmt(value, pattern="{:.0f}"):
    return "-" if value is None else pattern.format(value)


def render(headers, lines, markdown):
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]

    def aligned(cells):  # the scenario name left, figures right
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    print(aligned(headers))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print(aligned(line))
    if markdown:
        print()
        print("| " + " | ".join(headers) + " |")
        print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|")
        for line in lines:
            print("| " + " | ".join(line) + " |")


def print_tables(table, repeat, markdown):
    title = f"Medians of {repeat} runs" if repeat > 1 else "One run"
    print(f"\n{title}; latencies are of successful reservations, in ms:")
    render(
        [
            "scenario",
            "workers",
            "engine res/s",
            "p50",
            "p99",
            "raw-SQL tps",
            "raw p50",
            "raw p99",
            "engine/raw",
            "full (eng/raw)",
            "other failures",
        ],
        [
            [
                row["scenario"],
                str(row["workers"]),
                _fmt(row["engine"]),
                _fmt(row["p50"], "{:.1f}"),
                _fmt(row["p99"], "{:.1f}"),
                _fmt(row["raw"]),
                _fmt(row["raw_p50"], "{:.1f}"),
                _fmt(row["raw_p99"], "{:.1f}"),
                _fmt(row["ratio"], "{:.0%}"),
                f"{row['engine_failures']['full']}/"
                + (str(row["raw_failures"]["full"]) if row["raw"] is not None else "-"),
                _kinds(_other(row["engine_failures"]) + _other(row["raw_failures"])),
            ]
            for row in table
        ],
        markdown,
    )
    print(
        "\nCPU per reservation, in ms (engine: Python worker + its PostgreSQL backend; raw: "
        "pgbench + its backends).\nOn a CPU-bound machine the throughput ratio tends to the "
        "CPU ratio, which other people's load disturbs far less:"
    )
    render(
        [
            "scenario",
            "workers",
            "engine Python",
            "engine DB",
            "raw pgbench",
            "raw DB",
            "raw/engine CPU",
        ],
        [
            [
                row["scenario"],
                str(row["workers"]),
                _fmt(row["engine_py"], "{:.2f}"),
                _fmt(row["engine_db"], "{:.2f}"),
                _fmt(row["raw_client"], "{:.2f}"),
                _fmt(row["raw_db"], "{:.2f}"),
                _fmt(row["cpu_ratio"], "{:.0%}"),
            ]
            for row in table
        ],
        markdown,
    )


def print_failure_samples(rows):
    shown = set()
    for scenario, workers, engine, raw in rows:
        for side, measurement in (("engine", engine), ("raw SQL", raw)):
            if not measurement:
                continue
            for kind, text in measurement.samples.items():
                if kind != "full" and (side, kind) not in shown:
                    shown.add((side, kind))
                    print(f"  {side}, {scenario} x{workers}, {kind}: {text}")


def progress_line(scenario, workers, engine, raw):
    def side(m, unit):
        cpu = _cpu(m)
        return f"{m.rate:6.0f} {unit} p50 {m.p50_ms:6.1f} p99 {m.p99_ms:6.1f} ms" + (
            f" cpu {cpu:5.2f} ms" if cpu is not None else ""
        )

    ratio = f"{engine.rate / raw.rate:4.0%}" if raw and raw.rate else "   -"
    load = os.getloadavg()[0]
    return (
        f"{scenario:6} x{workers:<3} engine {side(engine, 'res/s')} | "
        f"raw {side(raw, 'tps') if raw else '-'} | {ratio} | load {load:.1f}"
    )


def profile(fixture, count, server_side_binding):
    """Where one worker's time goes: CPU split, then cProfile's costliest functions."""
    import cProfile
    import pstats
    import random

    from django.db import connection

    from participants.models import Participant
    from registrations.services import registration_create
    from tournaments.models import Tournament

    if server_side_binding:
        connection.close()
        connection.settings_dict["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
    tournament = Tournament.objects.get(pk=fixture.tournament_id)
    rng = random.Random(1)
    numbers = iter(range(1, fixture.participants + 1))

    def reserve():
        number = next(numbers)
        registration_create(
            tournament=tournament,
            slot_id=slot_id(rng.randint(1, fixture.slots)),
            participant=Participant(
                id=participant_id(number), first_name="Bench", last_name=f"Participant {number}"
            ),
            actor=ACTOR,
        )

    for _ in range(50):
        reserve()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    server, client, wall = backend_cpu(backend), time.process_time(), time.perf_counter()
    for _ in range(count):
        reserve()
    wall, client = time.perf_counter() - wall, time.process_time() - client
    server = backend_cpu(backend) - server if server is not None else None
    print(
        f"{count} reservations, one after another: {1000 * wall / count:.2f} ms each, "
        f"Python CPU {1000 * client / count:.2f} ms"
        + (f", PostgreSQL backend CPU {1000 * server / count:.2f} ms" if server else "")
    )
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        reserve()
    profiler.disable()
    print("\nUnder cProfile (which slows Python down), by cumulative time:")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


# --- main ------------------------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.conf import settings

    guard = hold_database(args.database_url)  # noqa: F841 (held until the run ends)
    fixture = build_fixture(
        slots=args.slots,
        participants=args.participants,
        existing=args.existing,
        rebuild=args.rebuild,
    )
    print(machine_summary())
    if args.profile:
        reset(fixture)
        profile(fixture, args.profile, args.server_side_binding)
        reset(fixture)
        return 0
    print(
        f"Measuring {', '.join(args.scenarios)} x workers {args.workers}, "
        f"{args.duration:g} s each, {args.repeat} run(s); hot = one slot, "
        f"spread = {args.slots:,} slots; {args.existing:,} registrations in place"
        + ("; engine with server-side binding" if args.server_side_binding else "")
    )
    rows = []
    statements = []
    with tempfile.TemporaryDirectory(prefix="lineup-bench-") as tmp:
        workdir = Path(tmp)
        script = workdir / "reserve.sql"
        script.write_text(pgbench_script(settings.LINEUP_LOCK_TIMEOUT_MS))
        for run in range(args.repeat):
            for scenario in args.scenarios:
                for workers in args.workers:
                    reset(fixture)
                    plan = EnginePlan(
                        scenario=scenario,
                        duration=args.duration,
                        seed=args.seed + run,
                        server_side_binding=args.server_side_binding,
                    )
                    engine = run_engine(plan=plan, workers=workers, fixture=fixture)
                    statements = statements or engine.statements
                    raw = None
                    if not args.no_pgbench:
                        reset(fixture)
                        raw = run_pgbench(
                            pgbench=args.pgbench,
                            url=args.database_url,
                            script=script,
                            scenario=scenario,
                            clients=workers,
                            fixture=fixture,
                            duration=args.duration,
                            workdir=workdir,
                        )
                    print(f"  run {run + 1} {progress_line(scenario, workers, engine, raw)}")
                    rows.append((scenario, workers, engine, raw))
        if args.show_sql:
            print("\nThe engine's statements for one reservation (captured in a worker):")
            for sql in statements:
                print(f"  {sql}")
            print(f"\nThe pgbench script:\n{script.read_text()}")
        reset(fixture)

    table = summarise(rows)
    print_tables(table, args.repeat, args.markdown)
    print()
    work_statements = print_statements(statements)
    failures = Counter()
    for row in table:
        failures += _other(row["engine_failures"]) + _other(row["raw_failures"])
    if failures:
        print(f"FAILED: failures other than 'full': {_kinds(failures)}")
        print_failure_samples(rows)

    verdicts = [("at most 6 SQL statements per reservation", work_statements <= 6)]
    spread8 = next((r for r in table if r["scenario"] == "spread" and r["workers"] == 8), None)
    if spread8 and spread8["ratio"] is not None:
        verdicts.append(
            (
                f"spread x8 at least 40% of raw SQL (is {spread8['ratio']:.0%})",
                spread8["ratio"] >= 0.4,
            )
        )
    verdicts.append(("no failure other than 'full'", not failures))
    print("Targets: " + "; ".join(f"{text}: {'met' if ok else 'MISSED'}" for text, ok in verdicts))
    print(f"Load average now: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if failures or (args.strict and not all(ok for _, ok in verdicts)):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
