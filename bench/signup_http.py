"""End-to-end sign-up benchmark: real HTTP against Lineup under gunicorn and PostgreSQL.

    .venv/bin/python bench/signup_http.py                 # defaults: 64 clients, 3,000 sign-ups
    .venv/bin/python bench/signup_http.py --signups 1000 --workers 3 --threads 4

What it does:
1. (Re)creates its own database (default `lineup_bench_signup`), empties its Redis cache
   database, migrates, and seeds one open tournament with many slots (8 rooms x 50 slots)
   and enough participants, plus a second tournament with a single "hot" slot.
2. Starts gunicorn on 127.0.0.1 (default port 8400) with production-like settings: DEBUG off,
   persistent DB connections, Redis as the shared cache for the rate limiter (limits raised,
   since every client here shares one address), e-mails rendered and handed to Django's dummy
   backend (no SMTP server here).
3. Phase "many slots": 64 concurrent clients each loop: GET the sign-up form, POST it (CSRF
   cookie + token, idempotency token), GET the confirmation page it redirects to. Participants
   are spread over the slots so that every sign-up fits.
4. Phase "hot slot": the same 64 clients all sign up for one slot with few places at once:
   exactly that many must succeed, every other one must get the "slot just filled" page (409).
5. Prints completed sign-ups per second, p50/p99 per request kind, the status counts (any 5xx
   is a failure) and checks that the database holds exactly the registrations whose
   confirmation pages the clients saw, with every slot's counter matching its registrations.

The load generator is a small asyncio HTTP/1.1 client with keep-alive (stdlib only), so it
costs little CPU next to the server on the same 2-core machine.
"""

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY_INPUT = re.compile(rb'name="idempotency_key" value="([^"]+)"')
REFERENCE = re.compile(rb'<code id="reference">([^<]+)</code>')


# --- a minimal keep-alive HTTP/1.1 client ------------------------------------------------------


class Connection:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def _open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(self, method, path, headers=(), body=b""):
        for attempt in (1, 2):
            if self.writer is None:
                await self._open()
            try:
                return await self._exchange(method, path, headers, body)
            except (ConnectionError, asyncio.IncompleteReadError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, method, path, headers, body):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        response_headers = defaultdict(list)
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                response_headers[name.strip().lower()].append(value.strip())
        if "content-length" in response_headers:
            content = await self.reader.readexactly(int(response_headers["content-length"][0]))
        elif response_headers.get("transfer-encoding", [""])[0].lower() == "chunked":
            content = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                content += await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            content = await self.reader.read()
            self.close()
        if response_headers.get("connection", [""])[0].lower() == "close":
            self.close()
        return status, response_headers, content


class Client:
    """One person: a connection, a cookie jar for csrftoken and the messages cookie."""

    def __init__(self, host, port, stats):
        self.connection = Connection(host, port)
        self.cookies = {}
        self.stats = stats

    async def call(self, kind, method, path, form=None):
        headers = []
        if self.cookies:
            headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        body = b""
        if form is not None:
            body = urlencode(form).encode()
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        started = time.perf_counter()
        status, headers_in, content = await self.connection.request(method, path, headers, body)
        self.stats.record(kind, status, time.perf_counter() - started)
        for cookie in headers_in.get("set-cookie", []):
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in cookie.lower():
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return status, headers_in, content

    async def sign_up(self, slug, participant_id, slot_id):
        """Form, submit, confirmation. Returns the reference shown, or the refusal status."""
        path = f"/t/{slug}/sign-up/?participant={participant_id}&slot={slot_id}"
        status, _, page = await self.call("form", "GET", path)
        if status != 200:
            return None, status
        form = {
            "csrfmiddlewaretoken": CSRF_INPUT.search(page).group(1).decode(),
            "idempotency_key": KEY_INPUT.search(page).group(1).decode(),
            "slot": slot_id,
            "contact_email": f"bench-{participant_id}@example.com",
        }
        status, headers, _ = await self.call("submit", "POST", path, form)
        if status != 302:
            return None, status
        status, _, page = await self.call("confirmation", "GET", headers["location"][0])
        if status != 200:
            return None, status
        return REFERENCE.search(page).group(1).decode(), 200


class Stats:
    def __init__(self):
        self.latencies = defaultdict(list)
        self.statuses = Counter()

    def record(self, kind, status, seconds):
        self.latencies[kind].append(seconds)
        self.statuses[status] += 1

    def report(self, title, elapsed, completed):
        everything = sorted(x for values in self.latencies.values() for x in values)
        print(f"\n== {title}")
        print(
            f"completed sign-ups: {completed} in {elapsed:.2f} s = "
            f"{completed / elapsed:.1f} sign-ups/s ({len(everything) / elapsed:.0f} requests/s)"
        )
        for kind, values in [*sorted(self.latencies.items()), ("all requests", everything)]:
            values = sorted(values)
            print(
                f"  {kind:<14} n={len(values):<6} p50={percentile(values, 50) * 1000:6.1f} ms"
                f"  p99={percentile(values, 99) * 1000:6.1f} ms  max={values[-1] * 1000:6.1f} ms"
            )
        fives = sum(n for status, n in self.statuses.items() if status >= 500)
        print(f"  statuses: {dict(sorted(self.statuses.items()))}   5xx: {fives}")
        return {
            "rate": completed / elapsed,
            "p50": percentile(everything, 50),
            "p99": percentile(everything, 99),
            "5xx": fives,
        }


def percentile(values, p):
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]


# --- the phases --------------------------------------------------------------------------------


async def phase_many_slots(host, port, slug, work, clients):
    stats, queue, confirmed, refused = Stats(), asyncio.Queue(), {}, Counter()
    for item in work:
        queue.put_nowait(item)

    async def run():
        client = Client(host, port, stats)
        while not queue.empty():
            participant_id, slot_id = queue.get_nowait()
            reference, status = await client.sign_up(slug, participant_id, slot_id)
            if reference:
                confirmed[reference] = (participant_id, slot_id)
            else:
                refused[status] += 1
        client.connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(run() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    summary = stats.report("many slots", elapsed, len(confirmed))
    if refused:
        print(f"  refused sign-ups by status: {dict(refused)}")
    return confirmed, summary


async def phase_hot_slot(host, port, slug, slot_id, participant_ids):
    stats, confirmed, refused = Stats(), {}, Counter()
    clients = [Client(host, port, stats) for _ in participant_ids]
    # Load every form first, then submit all at once: the worst case for one slot.
    forms = await asyncio.gather(
        *(
            c.call("form", "GET", f"/t/{slug}/sign-up/?participant={pid}&slot={slot_id}")
            for c, pid in zip(clients, participant_ids, strict=True)
        )
    )

    async def submit(client, pid, page):
        path = f"/t/{slug}/sign-up/?participant={pid}&slot={slot_id}"
        form = {
            "csrfmiddlewaretoken": CSRF_INPUT.search(page).group(1).decode(),
            "idempotency_key": KEY_INPUT.search(page).group(1).decode(),
            "slot": slot_id,
            "contact_email": f"hot-{pid}@example.com",
        }
        status, headers, content = await client.call("submit", "POST", path, form)
        if status == 302:
            status, _, page = await client.call("confirmation", "GET", headers["location"][0])
            confirmed[REFERENCE.search(page).group(1).decode()] = pid
        else:
            refused[status] += 1
            if status == 409:
                assert b"This slot just filled" in content
        client.connection.close()

    started = time.perf_counter()
    await asyncio.gather(
        *(
            submit(c, pid, page)
            for c, pid, (_, _, page) in zip(clients, participant_ids, forms, strict=True)
        )
    )
    elapsed = time.perf_counter() - started
    summary = stats.report(
        "hot slot (all 64 forms loaded first; the rate counts submit + confirmation)",
        elapsed,
        len(confirmed),
    )
    print(f"  refused sign-ups by status: {dict(refused)}")
    return confirmed, refused, summary


# --- setup -------------------------------------------------------------------------------------


def server_env(args):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=args.database_url,
        SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        DEBUG="0",
        HTTPS="0",
        CONN_MAX_AGE="600",
        CACHE_URL=args.cache_url,
        EMAIL_URL="dummymail://",
        LOG_LEVEL="WARNING",
        # Every bench client comes from 127.0.0.1: raise the per-client limits, keep the
        # limiter (and its Redis round trips) in the path.
        LINEUP_RATE_SIGNUP="1000000/m",
        LINEUP_RATE_SEARCH="1000000/m",
        LINEUP_RATE_REFERENCE="1000000/m",
    )
    return env


def recreate_database(database_url):
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def seed(args):
    """Runs in this process with Django set up against the bench database."""
    from django.core.management import call_command
    from django.utils import timezone

    from common.text import fold
    from participants.models import Participant
    from tournaments.models import Location, Slot, TimeBlock, Tournament, TournamentLocation

    call_command("migrate", verbosity=0)
    now = timezone.now()
    day = (timezone.localtime(now) + timedelta(days=3)).replace(
        hour=8, minute=0, second=0, microsecond=0
    )

    def tournament(slug):
        return Tournament.objects.create(
            name=slug.replace("-", " ").title(),
            slug=slug,
            status=Tournament.Status.PUBLISHED,
            registration_opens_at=now - timedelta(days=1),
            registration_closes_at=now + timedelta(days=2),
            starts_on=day.date(),
            ends_on=day.date(),
        )

    def slots_in(t, room, count, capacity, start):
        block = TimeBlock.objects.create(
            tournament=t,
            location=room,
            starts_at=start,
            ends_at=start + timedelta(minutes=10 * count),
            slot_minutes=10,
            slot_capacity=capacity,
        )
        TournamentLocation.objects.get_or_create(tournament=t, location=room)
        return Slot.objects.bulk_create(
            Slot(
                time_block=block,
                tournament=t,
                location=room,
                starts_at=start + timedelta(minutes=10 * i),
                ends_at=start + timedelta(minutes=10 * (i + 1)),
                number=i + 1,
                capacity=capacity,
            )
            for i in range(count)
        )

    main = tournament("bench-festival")
    rooms = [Location.objects.create(name=f"Bench Room {i + 1}") for i in range(args.rooms)]
    capacity = -(-args.signups // (args.rooms * args.slots_per_room))  # every sign-up fits
    slots = []
    for room in rooms:
        slots += slots_in(main, room, args.slots_per_room, capacity, day)
    hot = tournament("bench-hot-slot")
    (hot_slot,) = slots_in(hot, rooms[0], 1, args.hot_capacity, day + timedelta(days=1))

    people = Participant.objects.bulk_create(
        Participant(
            first_name=f"Bench{i}",
            last_name=f"Person{i}",
            school="Bench School",
            grade="7",
            search_name=fold(f"Bench{i} Person{i}"),
        )
        for i in range(args.signups + args.clients)
    )
    work = [
        (str(p.pk), str(slots[i % len(slots)].pk)) for i, p in enumerate(people[: args.signups])
    ]
    hot_people = [str(p.pk) for p in people[args.signups :]]
    print(
        f"seeded {len(slots)} slots x {capacity} places in {len(rooms)} rooms, "
        f"{len(people)} participants, hot slot with {args.hot_capacity} places"
    )
    return main, work, hot, hot_slot, hot_people


def verify(main, confirmed, hot_slot, hot_confirmed):
    """The database must hold exactly what the clients were shown, and consistent counters."""
    from django.db.models import F, Q, Sum
    from django.db.models.functions import Coalesce

    from registrations.models import Registration
    from tournaments.models import Slot

    problems = []
    active = Registration.objects.exclude(status=Registration.Status.CANCELLED)
    in_main = set(active.filter(tournament=main).values_list("reference", flat=True))
    if in_main != set(confirmed):
        problems.append(
            f"many-slots: {len(in_main)} registrations in the database, "
            f"{len(confirmed)} confirmations seen by clients"
        )
    in_hot = set(active.filter(slot=hot_slot).values_list("reference", flat=True))
    hot_slot.refresh_from_db()
    if in_hot != set(hot_confirmed) or hot_slot.reserved_count != len(hot_confirmed):
        problems.append(
            f"hot slot: {len(in_hot)} registrations, counter {hot_slot.reserved_count}, "
            f"{len(hot_confirmed)} confirmations seen"
        )
    if len(hot_confirmed) != hot_slot.capacity:
        problems.append(f"hot slot: {len(hot_confirmed)} confirmed for {hot_slot.capacity} places")
    mismatched = Slot.objects.annotate(
        held=Coalesce(Sum("registrations__seats", filter=~Q(registrations__status="cancelled")), 0)
    ).exclude(reserved_count=F("held"))
    if mismatched.exists():
        problems.append(f"{mismatched.count()} slots whose counter disagrees with registrations")
    if Slot.objects.filter(reserved_count__gt=F("capacity")).exists():
        problems.append("a slot holds more than its capacity")
    return problems


# --- CPU accounting: robust to a busy machine where wall-clock rates are not ------------------


def _cpu_seconds(pid):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _children(pid):
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _postgres_backends(database_url):
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [name]
        ).fetchall()
    return [pid for (pid,) in rows]


class CpuMeter:
    """CPU seconds used by gunicorn (master + workers), the bench database's PostgreSQL
    backends and this load generator between start() and stop()."""

    def __init__(self, server_pid, database_url):
        self.server_pid, self.database_url = server_pid, database_url

    def _sample(self):
        server = [self.server_pid, *_children(self.server_pid)]
        backends = _postgres_backends(self.database_url)
        own = os.times()
        return {
            "server": {pid: _cpu_seconds(pid) for pid in server},
            "postgres": {pid: _cpu_seconds(pid) for pid in backends},
            "load generator": own.user + own.system,
        }

    def start(self):
        self.before = self._sample()

    def stop(self):
        after = self._sample()
        used = {}
        for part in ("server", "postgres"):
            used[part] = sum(
                seconds - self.before[part].get(pid, 0.0) for pid, seconds in after[part].items()
            )
        used["load generator"] = after["load generator"] - self.before["load generator"]
        return used


def report_cpu(used, completed, cores):
    print("  CPU per completed sign-up (form + submit + confirmation):")
    total = 0.0
    for part, seconds in used.items():
        per = seconds / max(completed, 1) * 1000
        total += per
        print(f"    {part:<15} {per:6.2f} ms")
    print(
        f"    {'all':<15} {total:6.2f} ms -> at most ~{cores * 1000 / total:.0f} sign-ups/s "
        f"on {cores} idle cores (PostgreSQL's background writers not counted)"
    )


def wait_for(url_host, port, process, timeout=30):
    import socket

    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            socket.create_connection((url_host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8400)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--signups", type=int, default=3000, help="sign-ups in the first phase")
    parser.add_argument("--rooms", type=int, default=8)
    parser.add_argument("--slots-per-room", type=int, default=50)
    parser.add_argument("--hot-capacity", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (gthread)")
    parser.add_argument(
        "--worker-class", default="gthread", choices=["gthread", "sync"], help="gunicorn model"
    )
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/lineup_bench_signup"
    )
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument(
        "--profile",
        metavar="SVG",
        help="record the workers with py-spy during the many-slots phase (.txt: collapsed)",
    )
    args = parser.parse_args()

    os.environ.update(server_env(args))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    recreate_database(args.database_url)
    import django

    django.setup()
    from django.core.cache import cache

    # A fresh database needs a fresh cache: rate-limit counts and cached tournament rows of an
    # earlier run (same slugs, other ids) must not leak into this one.
    cache.clear()
    main_tournament, work, hot, hot_slot, hot_people = seed(args)
    from django.db import connections

    connections.close_all()

    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    command = [
        gunicorn,
        "config.wsgi",
        f"--bind={args.host}:{args.port}",
        f"--workers={args.workers}",
        f"--worker-class={args.worker_class}",
        f"--threads={args.threads}",
        "--keep-alive=30",
        "--backlog=512",
        "--log-level=warning",
    ]
    print("server:", " ".join(command[1:]))
    server = subprocess.Popen(command, cwd=BASE_DIR, env=server_env(args))
    spy = None
    try:
        wait_for(args.host, args.port, server)
        # Warm every worker (imports, template caches, connections) before measuring.
        asyncio.run(_warm(args.host, args.port, main_tournament.slug, args.workers * 8))
        if args.profile:
            spy = _start_profile(server.pid, args.profile)
        meter = CpuMeter(server.pid, args.database_url)
        meter.start()
        confirmed, summary = asyncio.run(
            phase_many_slots(args.host, args.port, main_tournament.slug, work, args.clients)
        )
        report_cpu(meter.stop(), len(confirmed), os.cpu_count())
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
            if args.profile.endswith(".txt"):
                summarize_profile(args.profile)
        hot_confirmed, _, hot_summary = asyncio.run(
            phase_hot_slot(args.host, args.port, hot.slug, str(hot_slot.pk), hot_people)
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    problems = verify(main_tournament, confirmed, hot_slot, hot_confirmed)
    print("\n== verification")
    print("  database matches the confirmations:", "yes" if not problems else "NO")
    for problem in problems:
        print("  -", problem)
    ok = (
        not problems
        and summary["5xx"] == 0
        and hot_summary["5xx"] == 0
        and summary["rate"] >= 150
        and summary["p99"] < 0.300
    )
    print(
        f"\ntargets (>=150 sign-ups/s, p99 < 300 ms, no 5xx, counts match): "
        f"{'met' if ok else 'NOT met'}"
    )
    return 0 if not problems and summary["5xx"] == 0 and hot_summary["5xx"] == 0 else 1


async def _warm(host, port, slug, count):
    stats = Stats()
    clients = [Client(host, port, stats) for _ in range(count)]
    await asyncio.gather(*(c.call("warm", "GET", f"/t/{slug}/") for c in clients))
    for c in clients:
        c.connection.close()


def _start_profile(pid, output):
    """py-spy (pip install py-spy) sampling every gunicorn worker of this run."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not spy:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    fmt = "raw" if output.endswith(".txt") else "flamegraph"  # raw: collapsed stacks
    # --gil: only samples that hold the GIL, i.e. Python CPU time, not waits.
    command = [spy, "record", "--pid", str(pid), "--subprocesses", "--gil", "--rate", "100"]
    return subprocess.Popen([*command, "--format", fmt, "-o", output])


# Where server CPU goes, by the first matching frame in each sampled stack.
PROFILE_BUCKETS = [
    ("confirmation e-mail (task, after commit)", ["send_notification"]),
    ("reservation engine (registrations/services/)", ["_place_new_entry", "locked_atomic"]),
    ("template rendering", ["render_to_string"]),
    ("rate limiter (django-ratelimit + Redis)", ["is_ratelimited"]),
    ("page queries (selectors)", ["selectors.py"]),
    ("forms (validation, widgets)", ["forms.py"]),
    ("Django request/response + middleware", ["django/core/handlers", "middleware"]),
    ("gunicorn (HTTP parsing, sockets)", ["gunicorn"]),
]


def summarize_profile(path):
    counts, total = Counter(), 0
    for line in Path(path).read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        total += int(samples)
        name = next(
            (name for name, marks in PROFILE_BUCKETS if any(m in stack for m in marks)), "other"
        )
        counts[name] += int(samples)
    print(f"  server CPU by part ({total} samples holding the GIL):")
    for name, samples in counts.most_common():
        print(f"    {samples / max(total, 1) * 100:5.1f}%  {name}")


if __name__ == "__main__":
    sys.exit(main())
