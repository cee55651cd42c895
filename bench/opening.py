"""The opening minute: N distinct competitors start at the moment sign-up opens.

    .venv/bin/python bench/opening.py                         # 20,000 competitors, PoW off and on
    .venv/bin/python bench/opening.py --count 3000 --pow off  # a quick one
    .venv/bin/python bench/opening.py --before /work/wt-before --rounds 2   # side by side
    .venv/bin/python bench/opening.py --url http://127.0.0.1:8480 --no-server  # through a balancer

Each competitor is a new visitor (own connection, own cookies): finds themself among a roster
of 100,000 participants (`/t/<slug>/find/?q=<name>&slot=<id>`), opens the sign-up form from the
result, submits it (CSRF, idempotency token, the proof of work where the tournament asks for
it) and reads the reference on the confirmation page. `--clients` visitors are under way at
any moment; all of them start together, the moment sign-up opens. A visitor shown the
admission queue page waits what its Retry-After says and comes back, as a browser would.

Gunicorn runs from `config/gunicorn.py` of the tree measured (this one, and with `--before` a
worktree of the code to compare with), PostgreSQL and Redis on 127.0.0.1, a database of its
own (copied from a seeded template database, so each run starts alike), DEBUG off, e-mails
rendered and handed to the dummy backend. The per-client rate limits are raised (every client
here is 127.0.0.1); the limiter stays in the path.

With `--before`, each tree runs on a database seeded and migrated by its own code (one
template per set of migrations), so trees on either side of a migration compare alike.

Reports sign-ups/s, p50/p95/p99 per step and for the whole visit, errors by kind and the
database invariants afterwards (every confirmation seen exists once, no slot over capacity,
counters equal their registrations, one entry per participant). Every run is bounded
(`--max-seconds`), stops its server and exits non-zero on a 5xx or a broken invariant.
"""

import argparse
import asyncio
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

import re  # noqa: E402

from bench.search import FIRST, surname  # noqa: E402
from bench.signup_http import (  # noqa: E402
    CSRF_INPUT,
    KEY_INPUT,
    REFERENCE,
    Client,
    CpuMeter,
    _cpu_seconds,
    percentile,
    wait_for,
)

SLUG = "opening-festival"
SIGNUP_LINK = re.compile(
    rb'href="/t/[^/]+/sign-up/\?participant=([0-9a-f-]+)&amp;slot=([0-9a-f-]+)"'
)
POW_INPUT = re.compile(rb'name="pow_challenge" value="([^"]+)"')
STEPS = ("find", "form", "submit", "confirmation")


# --- the visitors ------------------------------------------------------------------------------


class Run:
    """What every visitor of one run saw."""

    def __init__(self):
        self.latency = defaultdict(list)  # step -> seconds (the last, successful try)
        self.visit = []  # seconds from first request to the confirmation, queue waits included
        self.statuses = Counter()
        self.errors = Counter()  # kind -> count
        self.confirmed = {}  # reference -> participant id
        self.queued = 0  # visitors shown the queue page at least once
        self.queue_waits = []

    def error(self, kind):
        self.errors[kind] += 1


class Timeout(Exception):
    pass


async def step(client, run, kind, method, path, form=None, timeout=30.0):
    """One request; a queue page (Refresh + Retry-After on a GET) is waited out and retried."""
    waited = 0.0
    while True:
        started = time.perf_counter()
        try:
            status, headers, body = await asyncio.wait_for(
                client.call(kind, method, path, form), timeout
            )
        except TimeoutError:
            client.connection.close()
            raise Timeout(kind) from None
        run.statuses[status] += 1
        if status == 200 and "refresh" in headers and method == "GET":
            retry = float(headers.get("retry-after", ["1"])[0])
            if not waited:
                run.queued += 1
            waited += retry
            await asyncio.sleep(retry)
            continue
        run.latency[kind].append(time.perf_counter() - started)
        if waited:
            run.queue_waits.append(waited)
        return status, headers, body


def solve(challenge):
    from registrations.proof_of_work import solve as pow_solve

    return pow_solve(challenge)


async def visit(host, port, run, person, deadline):
    """One competitor, from the search to the confirmation."""
    participant_id, name, slot_id = person
    client = Client(host, port, _NullStats())
    started = time.perf_counter()
    try:
        status, _, page = await step(
            client, run, "find", "GET", f"/t/{SLUG}/find/?q={quote(name)}&slot={slot_id}"
        )
        if status != 200:
            return run.error(f"find {status}")
        links = {pid.decode(): slot.decode() for pid, slot in SIGNUP_LINK.findall(page)}
        if participant_id not in links:
            return run.error("find: not among the results")
        path = f"/t/{SLUG}/sign-up/?participant={participant_id}&slot={slot_id}"
        status, _, page = await step(client, run, "form", "GET", path)
        if status != 200:
            return run.error(f"form {status}")
        form = {
            "csrfmiddlewaretoken": CSRF_INPUT.search(page).group(1).decode(),
            "idempotency_key": KEY_INPUT.search(page).group(1).decode(),
            "slot": slot_id,
            "contact_email": f"opening-{participant_id[:8]}@example.com",
        }
        challenge = POW_INPUT.search(page)
        if challenge:
            form["pow_challenge"] = challenge.group(1).decode()
            form["pow_nonce"] = solve(form["pow_challenge"])
        if time.monotonic() > deadline:
            return run.error("stopped at the time limit")
        status, headers, page = await step(client, run, "submit", "POST", path, form)
        if status != 302:
            return run.error(f"submit {status}" + (" (full)" if status == 409 else ""))
        status, _, page = await step(client, run, "confirmation", "GET", headers["location"][0])
        if status != 200:
            return run.error(f"confirmation {status}")
        run.confirmed[REFERENCE.search(page).group(1).decode()] = participant_id
        run.visit.append(time.perf_counter() - started)
    except Timeout as exc:
        run.error(f"{exc.args[0]} timed out (30 s)")
    except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
        run.error(f"connection: {type(exc).__name__}")
    finally:
        client.connection.close()


class _NullStats:
    def record(self, kind, status, seconds):
        pass


async def storm(host, port, people, clients, max_seconds):
    run = Run()
    queue = asyncio.Queue()
    for person in people:
        queue.put_nowait(person)
    deadline = time.monotonic() + max_seconds

    async def worker():
        while not queue.empty() and time.monotonic() < deadline:
            await visit(host, port, run, queue.get_nowait(), deadline)

    async def progress():
        # A storm runs for minutes: a line every 10 s on stderr, so the table stays clean.
        while True:
            await asyncio.sleep(10)
            elapsed = time.perf_counter() - started
            print(
                f"  {elapsed:5.0f} s: {len(run.confirmed):,} of {len(people):,} confirmed",
                file=sys.stderr,
                flush=True,
            )

    started = time.perf_counter()
    ticker = asyncio.create_task(progress())
    await asyncio.gather(*(worker() for _ in range(clients)))
    ticker.cancel()
    run.elapsed = time.perf_counter() - started
    run.not_started = queue.qsize()
    return run


def report(title, run, count):
    fives = sum(n for status, n in run.statuses.items() if status >= 500)
    done = len(run.confirmed)
    print(f"\n== {title}")
    print(
        f"  confirmed {done:,} of {count:,} in {run.elapsed:.1f} s = {done / run.elapsed:.1f} "
        f"sign-ups/s; not started (time limit): {run.not_started:,}"
    )
    for kind in (*STEPS, "visit"):
        values = sorted(run.visit if kind == "visit" else run.latency[kind])
        if values:
            print(
                f"  {kind:<13} n={len(values):<6} p50={percentile(values, 50) * 1000:7.0f} ms"
                f"  p95={percentile(values, 95) * 1000:7.0f} ms"
                f"  p99={percentile(values, 99) * 1000:7.0f} ms"
            )
    if run.queued:
        print(
            f"  queued: {run.queued:,} visitors, median wait "
            f"{statistics.median(run.queue_waits):.1f} s, max {max(run.queue_waits):.1f} s"
        )
    print(f"  statuses: {dict(sorted(run.statuses.items()))}   5xx: {fives}")
    print(f"  errors by kind: {dict(run.errors.most_common()) or 'none'}")
    return {
        "rate": done / run.elapsed,
        "confirmed": done,
        "5xx": fives,
        "p99": {k: percentile(sorted(run.latency[k]), 99) for k in STEPS},
        "visit_p50": percentile(sorted(run.visit), 50),
        "visit_p99": percentile(sorted(run.visit), 99),
    }


# --- the database ------------------------------------------------------------------------------


def admin_connect(database_url):
    import psycopg

    parts = urlsplit(database_url)
    return psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True)


def template_name(args, tree=BASE_DIR):
    """Named after the roster and `tree`'s migrations: a tree with other migrations has its own."""
    import hashlib

    migrations = sorted(str(p.relative_to(tree)) for p in tree.glob("*/migrations/0*.py"))
    digest = hashlib.sha256("\n".join(migrations).encode()).hexdigest()[:8]
    return f"lineup_opening_seed_{args.roster}_{digest}"


def seed_template(args, tree=BASE_DIR):
    """A database with `tree`'s migrations, the tournament and the roster, made by `tree`'s own
    models and kept between runs as a template: each run copies it (seconds) instead of
    seeding 100,000 people again."""
    name = template_name(args, tree)
    with admin_connect(args.database_url) as connection:
        if (
            connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            and not args.reseed
        ):
            return
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    url = args.database_url.rsplit("/", 1)[0] + "/" + name
    print(
        f"seeding {name}: {args.roster:,} participants (once; later runs copy it) ...", flush=True
    )
    env = dict(os.environ, DATABASE_URL=url)
    command = [sys.executable, __file__, "--seed-only", "--roster", str(args.roster)]
    subprocess.run([*command, "--tree", str(tree)], env=env, check=True, cwd=tree)


def seed_here(args):
    """Runs in a child process, Django set up from `--tree` against the template database."""
    sys.path.insert(0, str(args.tree))
    os.environ.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="0", HTTPS="0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from participants.models import Participant
    from tournaments.models import Location, Slot, TimeBlock, Tournament, TournamentLocation

    call_command("migrate", verbosity=0)
    now = timezone.now()
    day = (timezone.localtime(now) + timedelta(days=7)).replace(hour=8, minute=0, second=0)
    tournament = Tournament.objects.create(
        name="Opening Festival",
        slug=SLUG,
        status=Tournament.Status.PUBLISHED,
        registration_opens_at=now - timedelta(minutes=1),
        registration_closes_at=now + timedelta(days=5),
        starts_on=day.date(),
        ends_on=day.date(),
    )
    rooms, per_room, capacity = 40, 50, 10  # 20,000 places
    for r in range(rooms):
        room = Location.objects.create(name=f"Hall {r + 1}")
        TournamentLocation.objects.create(tournament=tournament, location=room)
        block = TimeBlock.objects.create(
            tournament=tournament,
            location=room,
            starts_at=day,
            ends_at=day + timedelta(minutes=10 * per_room),
            slot_minutes=10,
            slot_capacity=capacity,
        )
        Slot.objects.bulk_create(
            Slot(
                time_block=block,
                tournament=tournament,
                location=room,
                starts_at=day + timedelta(minutes=10 * i),
                ends_at=day + timedelta(minutes=10 * (i + 1)),
                number=i + 1,
                capacity=capacity,
            )
            for i in range(per_room)
        )
    rng = random.Random(14)
    surnames = [surname(rng) for _ in range(20_000)]
    seen, batch = set(), []
    while len(batch) < args.roster:
        first, last = rng.choice(FIRST), rng.choice(surnames)
        if (first, last) in seen:  # distinct names: each competitor can find themself
            continue
        seen.add((first, last))
        person = Participant(first_name=first, last_name=last, school=f"School {len(batch) % 300}")
        person.search_name = person.folded_search_name()
        batch.append(person)
    Participant.objects.bulk_create(batch, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"seeded {rooms * per_room} slots x {capacity} places, {args.roster:,} participants")


def fresh_database(args, tree=BASE_DIR):
    import psycopg

    name = args.database_url.rsplit("/", 1)[1]
    with admin_connect(args.database_url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for attempt in range(10):
            try:
                connection.execute(
                    f'CREATE DATABASE "{name}" TEMPLATE "{template_name(args, tree)}"'
                )
                return
            except psycopg.errors.ObjectInUse:  # someone is looking at the template
                if attempt == 9:
                    raise
                time.sleep(3)


def competitors(args, pow_on):
    """(participant id, name typed, slot id): `count` distinct people, every one fits."""
    import psycopg

    with psycopg.connect(args.database_url, autocommit=True) as connection:
        connection.execute(
            "UPDATE tournaments_tournament SET requires_proof_of_work = %s, "
            "registration_opens_at = now() - interval '1 second' WHERE slug = %s",
            [pow_on, SLUG],
        )
        people = connection.execute(
            "SELECT id::text, first_name || ' ' || last_name FROM participants_participant "
            "ORDER BY id LIMIT %s",
            [args.count],
        ).fetchall()
        slots = connection.execute(
            "SELECT s.id::text FROM tournaments_slot s JOIN tournaments_tournament t "
            "ON t.id = s.tournament_id WHERE t.slug = %s ORDER BY s.starts_at, s.location_id",
            [SLUG],
        ).fetchall()
    rng = random.Random(args.count)
    rng.shuffle(people)
    return [(pid, name, slots[i % len(slots)][0]) for i, (pid, name) in enumerate(people)]


INVARIANTS = [
    (
        "a slot holds more than its capacity",
        "SELECT count(*) FROM tournaments_slot WHERE reserved_count > capacity",
    ),
    (
        "slots whose counter differs from their registrations",
        "SELECT count(*) FROM tournaments_slot s WHERE s.reserved_count <> (SELECT "
        "coalesce(sum(r.seats), 0) FROM registrations_registration r WHERE r.slot_id = s.id "
        "AND r.status <> 'cancelled')",
    ),
    (
        "participants entered twice",
        "SELECT count(*) FROM (SELECT participant_id FROM registrations_registration WHERE "
        "status <> 'cancelled' GROUP BY tournament_id, participant_id HAVING count(*) > 1) x",
    ),
]


def verify(database_url, confirmed):
    import psycopg

    problems = []
    with psycopg.connect(database_url, autocommit=True) as connection:
        for label, sql in INVARIANTS:
            (n,) = connection.execute(sql).fetchone()
            if n:
                problems.append(f"{n} {label}")
        stored = dict(
            connection.execute(
                "SELECT reference, count(*) FROM registrations_registration "
                "WHERE status <> 'cancelled' GROUP BY reference"
            ).fetchall()
        )
    seen = set(confirmed)
    if missing := seen - set(stored):
        problems.append(f"{len(missing)} confirmations shown but not in the database")
    # Made, but the client had given up waiting (a timeout) before the answer came: not an
    # error of the server's, reported beside the timeouts.
    unseen = len(set(stored) - seen)
    print(
        f"  database: {len(stored):,} registrations, {len(seen):,} confirmations seen, {unseen:,} "
        "made after the client gave up; "
        + ("invariants hold" if not problems else "PROBLEMS: " + "; ".join(problems))
    )
    return problems


# --- the server --------------------------------------------------------------------------------


def server_env(args, tree):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "LINEUP_"))}
    env.update(
        DATABASE_URL=args.database_url,
        SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        DEBUG="0",
        HTTPS="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        STATIC_MANIFEST="0",  # no collectstatic here
        CONN_MAX_AGE="600",
        CACHE_URL=args.cache_url,
        EMAIL_URL="dummymail://",
        # The address the visitors use, as production sets it: the e-mails' links and check-in
        # code name the same address as the pages.
        LINEUP_BASE_URL=f"http://127.0.0.1:{args.port}",
        LOG_LEVEL="WARNING",
        TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend"
        if args.email == "request"
        else "django_tasks_db.DatabaseBackend",
        GUNICORN_BIND=f"127.0.0.1:{args.port}",
        GUNICORN_WORKERS=str(args.workers),
        GUNICORN_THREADS=str(args.threads),
        GUNICORN_LOG_LEVEL="warning",
        GUNICORN_KEEPALIVE="5",
        GUNICORN_MAX_REQUESTS="0",
        LINEUP_RATE_SIGNUP="1000000/m",
        LINEUP_RATE_SEARCH="1000000/m",
        LINEUP_RATE_REFERENCE="1000000/m",
        LINEUP_POW_BITS=str(args.pow_bits),
        LINEUP_ADMISSION_RATE=str(args.admission_rate),
        LINEUP_ADMISSION_BURST=str(args.admission_burst),
        PYTHONPATH=str(tree),
    )
    return env


def start_server(args, tree):
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    command = [gunicorn, "-c", "config/gunicorn.py", "--access-logfile=/dev/null", "config.wsgi"]
    if args.worker_class:
        command.append(f"--worker-class={args.worker_class}")
    server = subprocess.Popen(command, cwd=tree, env=server_env(args, tree), start_new_session=True)
    wait_for("127.0.0.1", args.port, server)
    return server


def start_worker(args, tree):
    """The task worker that writes the e-mails, as production runs it, at a lower priority than
    the web server (`nice`): while the rush lasts the pages come first, the e-mails follow."""
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
    return subprocess.Popen(
        ["nice", "-n", "10", *command, "-v", "0"],
        cwd=tree,
        env=server_env(args, tree),
        start_new_session=True,
    )


def wait_for_emails(args, started):
    """Seconds from `started` until every e-mail the run queued is sent (None: not within
    --max-seconds), and how many were."""
    import psycopg

    deadline = time.monotonic() + args.max_seconds
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        while True:
            total, waiting = connection.execute(
                "SELECT count(*), count(*) FILTER (WHERE state <> 'sent') "
                "FROM registrations_notification"
            ).fetchone()
            if not waiting or time.monotonic() > deadline:
                return (None if waiting else time.monotonic() - started), total - waiting
            time.sleep(0.25)


def stop_server(server):
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def flush_cache(cache_url):
    import redis

    redis.Redis.from_url(cache_url).flushdb()


async def warm(host, port, count):
    clients = [Client(host, port, _NullStats()) for _ in range(count)]
    await asyncio.gather(*(c.call("warm", "GET", f"/t/{SLUG}/") for c in clients))
    for c in clients:
        c.connection.close()


def one_run(args, label, tree, pow_on):
    fresh_database(args, tree)
    flush_cache(args.cache_url)
    people = competitors(args, pow_on)
    server = None if args.no_server else start_server(args, tree)
    worker = start_worker(args, tree) if server and args.email == "worker" else None
    host, port = args.target
    try:
        asyncio.run(warm(host, port, 16))
        meter = CpuMeter(server.pid, args.database_url) if server else None
        if meter:
            meter.start()
            worker_cpu = _cpu_seconds(worker.pid) if worker else 0.0
        run = asyncio.run(storm(host, port, people, args.clients, args.max_seconds))
        if worker:
            print("  waiting for the worker's e-mails ...", file=sys.stderr, flush=True)
            # The meter runs on until the worker has caught up: its statements are PostgreSQL's.
            mailed = wait_for_emails(args, time.monotonic())
        cpu = meter.stop() if meter else None
        if cpu is not None and worker:
            cpu["e-mail worker"] = _cpu_seconds(worker.pid) - worker_cpu
    finally:
        for process in (worker, server):
            if process:
                stop_server(process)
    title = f"{label}, proof of work {'on' if pow_on else 'off'}"
    title += ", e-mails by the worker" if worker else ""
    summary = report(title, run, len(people))
    if worker:
        lag, sent = mailed
        print(
            f"  e-mails: {sent:,} sent, the last "
            + (f"{lag:.1f} s after the rush ended" if lag is not None else "not within the limit")
        )
    if cpu:
        per = {k: v / max(len(run.confirmed), 1) * 1000 for k, v in cpu.items()}
        print("  CPU per sign-up: " + ", ".join(f"{k} {v:.1f} ms" for k, v in per.items()))
        summary["cpu"] = per
    summary["problems"] = verify(args.database_url, run.confirmed)
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20_000, help="competitors (default 20,000)")
    parser.add_argument("--roster", type=int, default=100_000, help="participants listed")
    parser.add_argument("--clients", type=int, default=200, help="visitors under way at once")
    parser.add_argument("--pow", choices=["off", "on", "both"], default="both")
    parser.add_argument(
        "--pow-bits",
        type=int,
        default=8,
        help="puzzle size (the clients solve it in Python on the same 2 cores; a phone does 16)",
    )
    parser.add_argument("--max-seconds", type=float, default=600, help="stop after this long")
    parser.add_argument("--before", type=Path, help="a worktree of the code to compare with")
    parser.add_argument("--rounds", type=int, default=1, help="runs per tree, alternating")
    parser.add_argument("--port", type=int, default=8470)
    parser.add_argument("--url", help="send the visitors here instead (e.g. a load balancer)")
    parser.add_argument("--no-server", action="store_true", help="use a server already running")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--worker-class", default="")
    parser.add_argument(
        "--email",
        choices=["request", "worker"],
        default="request",
        help="who writes the confirmation e-mails: the sign-up's request (their CPU counted "
        "as the server's), or the task worker at a lower priority, as production runs it",
    )
    parser.add_argument("--admission-rate", type=float, default=0, help="0: no admission gate")
    parser.add_argument("--admission-burst", type=int, default=10)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/lineup_opening"
    )
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--reseed", action="store_true", help="rebuild the template database")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, default=BASE_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        return seed_here(args)

    url = urlsplit(args.url or f"http://127.0.0.1:{args.port}")
    args.target = (url.hostname, url.port)
    # The clients read the proof-of-work challenge with the project's own solver.
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        DEBUG="0",
        HTTPS="0",
    )
    trees = [("after (this tree)", BASE_DIR)]
    if args.before:
        trees.insert(0, ("before", args.before.resolve()))
    for _, tree in trees:
        seed_template(args, tree)
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.pow]
    results = defaultdict(list)
    for _ in range(args.rounds):
        for pow_on in modes:
            for label, tree in trees:
                results[(label, pow_on)].append(one_run(args, label, tree, pow_on))

    print("\n== summary (medians over rounds)")
    failed = False
    for (label, pow_on), runs in results.items():
        rate = statistics.median(r["rate"] for r in runs)
        p99 = {k: statistics.median(r["p99"][k] for r in runs) * 1000 for k in STEPS}
        visit99 = statistics.median(r["visit_p99"] for r in runs)
        fives = sum(r["5xx"] for r in runs)
        problems = sum(len(r["problems"]) for r in runs)
        failed |= bool(fives or problems)
        print(
            f"  {label:<18} pow {'on ' if pow_on else 'off'}: {rate:6.1f} sign-ups/s "
            f"(runs {', '.join(format(r['rate'], '.1f') for r in runs)}); p99 "
            + " / ".join(f"{k} {p99[k]:.0f}" for k in STEPS)
            + f" ms; visit p99 {visit99:.1f} s; 5xx {fives}; invariant problems {problems}"
        )
    if args.before:
        for pow_on in modes:
            before = statistics.median(r["rate"] for r in results[("before", pow_on)])
            after = statistics.median(r["rate"] for r in results[("after (this tree)", pow_on)])
            print(f"  ratio after/before, pow {'on' if pow_on else 'off'}: {after / before:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
