"""The failover drill: a sign-up storm while the database restarts, loses a backend, and fails
over to its synchronous standby; nothing a client was shown may be lost or doubled.

    .venv/bin/python ops/failover.py                    # all three, 20 s of storm each
    .venv/bin/python ops/failover.py --seconds 60 --scenario failover

On this machine, as the `postgres` user and only on loopback, it builds a throwaway primary
(initdb, port 5491 by default) and a streaming standby of it (pg_basebackup, port 5492) with
synchronous replication (`synchronous_standby_names`, `synchronous_commit = on`: a commit
returns only once the standby has it), in a temporary directory removed afterwards. The
machine's own cluster on 5432 is never touched. One gunicorn serves Lineup with the multi-host
`DATABASE_URL=postgres://postgres@127.0.0.1:5491,127.0.0.1:5492/lineup?target_session_attrs=
read-write&connect_timeout=2`, so whichever cluster accepts writes is the one it uses.

Clients sign up in a loop (form, submit, confirmation); a 503 "try again" page makes them
submit the same form again (same idempotency token) after a short pause, as the page asks.
Scenarios, each in the middle of the storm:
- restart: `pg_ctl restart -m fast` of the primary;
- kill: `pg_terminate_backend` of every Lineup backend, many of them mid-transaction;
- failover: the primary stopped (`-m immediate`, as a crash), the standby promoted.
Afterwards: every reference a client saw exists exactly once, every participant is entered at
most once, every slot's counter equals its registrations, clients saw only 200/302/503 (never
a 500, never a wait past the lock timeout plus the connect timeout), and the app served again
without a restart. Prints how long sign-ups failed.
"""

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from ops.scaleout import _stop, free_port, wait_until_listening  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql") / "15" / "bin"
SLUG = "failover-festival"
# A request may wait this long at most: the engine's lock wait, a connect attempt per host, and
# the rest of the request.
LOCK_TIMEOUT_MS = 3000
CONNECT_TIMEOUT_S = 2
WORST_WAIT_S = LOCK_TIMEOUT_MS / 1000 + 2 * CONNECT_TIMEOUT_S + 5


def pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not versions:
        raise SystemExit("PostgreSQL's server binaries are missing (apt-get install postgresql)")
    return versions[-1].parent


def as_postgres(*command, **kwargs):
    """Run a PostgreSQL tool as the postgres user (clusters refuse to run as root)."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *map(str, command)], check=True, capture_output=True, **kwargs)


class Clusters:
    """A primary and a synchronous standby in a temporary directory."""

    def __init__(self, primary_port: int, standby_port: int):
        self.primary_port, self.standby_port = primary_port, standby_port
        self.root = Path(tempfile.mkdtemp(prefix="lineup-failover-"))
        self.primary, self.standby = self.root / "primary", self.root / "standby"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self.bin = pg_bin()

    def pg_ctl(self, data: Path, *args: str) -> None:
        as_postgres(self.bin / "pg_ctl", "-D", data, "-l", data / "log", "-w", "-t", "60", *args)

    def create(self) -> None:
        as_postgres(self.bin / "initdb", "-D", self.primary, "-U", "postgres", "--auth=trust")
        settings = {
            "port": self.primary_port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "wal_level": "replica",
            "max_wal_senders": 5,
            "synchronous_standby_names": "'standby1'",
            "synchronous_commit": "on",
            "max_connections": 100,
            "shared_buffers": "'64MB'",
        }
        with (self.primary / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{k} = {v}\n" for k, v in settings.items())
        self.pg_ctl(self.primary, "start")
        as_postgres(
            self.bin / "pg_basebackup",
            "-D",
            self.standby,
            "-R",
            "-X",
            "stream",
            "-d",
            f"host=127.0.0.1 port={self.primary_port} user=postgres application_name=standby1",
        )
        with (self.standby / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"port = {self.standby_port}\n")
            # Promoted, it takes writes alone: no standby of its own to wait for.
            conf.write("synchronous_standby_names = ''\n")
        self.pg_ctl(self.standby, "start")
        self.wait_sync()

    def wait_sync(self, timeout=60.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with psycopg.connect(self.url(self.primary_port, "postgres")) as connection:
                row = connection.execute(
                    "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'"
                ).fetchone()
            if row and row[0] == "sync":
                return
            time.sleep(0.5)
        raise RuntimeError("the standby did not become synchronous")

    def url(self, port: int, name: str = "lineup") -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{name}"

    def app_url(self) -> str:
        return (
            f"postgres://postgres@127.0.0.1:{self.primary_port},127.0.0.1:{self.standby_port}"
            f"/lineup?target_session_attrs=read-write&connect_timeout={CONNECT_TIMEOUT_S}"
        )

    def remove(self) -> None:
        for data in (self.standby, self.primary):
            if (data / "postmaster.pid").exists():
                with contextlib.suppress(subprocess.CalledProcessError):
                    self.pg_ctl(data, "stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def seed(database_url: str, people: int) -> None:
    """Runs in a child process: migrate the throwaway database, one open tournament."""
    os.environ.update(
        DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings", DEBUG="0", HTTPS="0"
    )
    os.environ.setdefault("SECRET_KEY", "failover-only-" + "x" * 40)
    import django

    django.setup()
    from django.core.management import call_command

    from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory

    call_command("migrate", verbosity=0)
    tournament = TournamentFactory(slug=SLUG, requires_proof_of_work=False)
    slots = [
        SlotFactory(tournament=tournament, time_block__tournament=tournament, capacity=people)
        for _ in range(4)
    ]
    participants = ParticipantFactory.create_batch(people)
    print(
        json.dumps(
            {"slots": [str(s.pk) for s in slots], "people": [str(p.pk) for p in participants]}
        )
    )


def server_env(database_url: str, port: int) -> dict[str, str]:
    from ops.scaleout import app_env

    return app_env(
        database_url,
        "locmemcache://failover",
        port,
        LINEUP_RATE_SIGNUP="1000000/m",
        LINEUP_RATE_SEARCH="1000000/m",
        LINEUP_RATE_REFERENCE="1000000/m",
        LINEUP_LOCK_TIMEOUT_MS=str(LOCK_TIMEOUT_MS),
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="4",
        GUNICORN_TIMEOUT="30",
    )


# --- the storm -----------------------------------------------------------------------------------


class Storm:
    """Clients signing up in a loop; what each one saw, with the time it saw it."""

    def __init__(self, port: int, slots: list[str], people: list[str]):
        self.port, self.slots, self.people = port, slots, list(people)
        self.confirmed: list[str] = []  # references shown, one entry per page shown
        self.statuses: Counter = Counter()
        self.timeline: list[tuple[float, bool]] = []  # (when, the submit succeeded)
        self.slowest = 0.0
        self.errors: Counter = Counter()
        self.stop_at = 0.0

    async def run(self, clients: int, seconds: float) -> None:
        from bench.signup_http import Client

        self.stop_at = time.monotonic() + seconds

        async def one_client(n: int) -> None:
            while time.monotonic() < self.stop_at and self.people:
                await self.sign_up(Client("127.0.0.1", self.port, self), self.people.pop())

        await asyncio.gather(*(one_client(n) for n in range(clients)))

    def record(self, kind, status, seconds):
        self.statuses[status] += 1
        self.slowest = max(self.slowest, seconds)

    async def call(self, client, method, path, form=None):
        try:
            return await asyncio.wait_for(client.call("x", method, path, form), WORST_WAIT_S * 2)
        except TimeoutError:
            self.errors["hung"] += 1
            client.connection.close()
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            self.errors[type(exc).__name__] += 1
            client.connection.close()
        return None, {}, b""

    async def sign_up(self, client, person: str) -> None:
        from bench.signup_http import CSRF_INPUT, KEY_INPUT, REFERENCE

        slot = self.slots[hash(person) % len(self.slots)]
        path = f"/t/{SLUG}/sign-up/?participant={person}&slot={slot}"
        page = b""
        while time.monotonic() < self.stop_at + 30:
            status, _, page = await self.call(client, "GET", path)
            if status == 200:
                break
            await asyncio.sleep(0.5)
        else:
            return
        form = {
            "csrfmiddlewaretoken": CSRF_INPUT.search(page).group(1).decode(),
            "idempotency_key": KEY_INPUT.search(page).group(1).decode(),
            "slot": slot,
            "contact_email": "storm@example.com",
        }
        # The same form again after a 503, as the page asks: one registration however often.
        while time.monotonic() < self.stop_at + 30:
            status, headers, _ = await self.call(client, "POST", path, form)
            self.timeline.append((time.monotonic(), status == 302))
            if status == 302:
                status, _, page = await self.call(client, "GET", headers["location"][0])
                if status == 200:
                    self.confirmed.append(REFERENCE.search(page).group(1).decode())
                return
            await asyncio.sleep(0.5)
        client.connection.close()

    def outage(self, event_at: float) -> float:
        """Seconds from the first failed submit after the event to the next success."""
        after = [(t, ok) for t, ok in sorted(self.timeline) if t >= event_at - 1]
        first_fail = next((t for t, ok in after if not ok), None)
        if first_fail is None:
            return 0.0
        back = next((t for t, ok in after if ok and t > first_fail), None)
        return (back or after[-1][0]) - first_fail


def verify(database_url: str, storm: Storm) -> list[str]:
    import psycopg

    problems = []
    with psycopg.connect(database_url) as connection:
        stored = dict(
            connection.execute(
                "SELECT reference, count(*) FROM registrations_registration "
                "WHERE status <> 'cancelled' GROUP BY reference"
            ).fetchall()
        )
        (twice,) = connection.execute(
            "SELECT count(*) FROM (SELECT participant_id FROM registrations_registration "
            "WHERE status <> 'cancelled' GROUP BY participant_id HAVING count(*) > 1) x"
        ).fetchone()
        (counters,) = connection.execute(
            "SELECT count(*) FROM tournaments_slot s WHERE s.reserved_count <> (SELECT "
            "coalesce(sum(seats), 0) FROM registrations_registration r WHERE r.slot_id = s.id "
            "AND r.status <> 'cancelled')"
        ).fetchone()
        (keys,) = connection.execute(
            "SELECT count(*) FROM (SELECT idempotency_key FROM registrations_registration "
            "GROUP BY idempotency_key HAVING count(*) > 1) x"
        ).fetchone()
    lost = [r for r in storm.confirmed if r not in stored]
    if lost:
        problems.append(f"{len(lost)} confirmations shown are not in the database")
    if len(set(storm.confirmed)) != len(storm.confirmed):
        problems.append("one reference was shown to two clients")
    if twice:
        problems.append(f"{twice} participants entered twice")
    if keys:
        problems.append(f"{keys} form tokens made two registrations")
    if counters:
        problems.append(f"{counters} slot counters differ from their registrations")
    bad = {s: n for s, n in storm.statuses.items() if s not in (200, 302, 503)}
    if bad:
        problems.append(f"clients saw {bad}")
    if storm.errors:
        problems.append(f"client errors {dict(storm.errors)}")
    if storm.slowest > WORST_WAIT_S:
        problems.append(f"a request took {storm.slowest:.1f} s (limit {WORST_WAIT_S:.0f} s)")
    return problems


def run_scenario(clusters: Clusters, name: str, port: int, people, slots, seconds, clients, out):
    """One storm with the event at its middle; returns (problems, seconds sign-ups failed)."""
    storm = Storm(port, slots, people)

    def event():
        if name == "restart":
            clusters.pg_ctl(clusters.primary, "restart", "-m", "fast")
        elif name == "kill":
            import psycopg

            with psycopg.connect(clusters.url(clusters.primary_port, "postgres")) as c:
                c.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = 'lineup' AND pid <> pg_backend_pid()"
                )
        elif name == "failover":
            clusters.pg_ctl(clusters.primary, "stop", "-m", "immediate")
            clusters.pg_ctl(clusters.standby, "promote")

    async def main():
        task = asyncio.ensure_future(storm.run(clients, seconds))
        await asyncio.sleep(seconds / 2)
        at = time.monotonic()
        await asyncio.get_running_loop().run_in_executor(None, event)
        took = time.monotonic() - at
        await task
        return at, took

    event_at, event_took = asyncio.run(main())
    live = clusters.standby_port if name == "failover" else clusters.primary_port
    problems = verify(clusters.url(live), storm)
    outage = storm.outage(event_at)
    print(
        f"== {name}: {len(storm.confirmed)} confirmed, statuses {dict(storm.statuses)}, "
        f"the event took {event_took:.1f} s, sign-ups failed for {outage:.1f} s, slowest "
        f"request {storm.slowest:.1f} s; "
        + ("all checks hold" if not problems else "PROBLEMS: " + "; ".join(problems)),
        file=out,
        flush=True,
    )
    return problems, outage, storm


async def _warm(port: int) -> None:
    from bench.signup_http import Client

    clients = [Client("127.0.0.1", port, Storm(port, [], [])) for _ in range(16)]
    await asyncio.gather(*(c.call("warm", "GET", f"/t/{SLUG}/") for c in clients))
    for c in clients:
        c.connection.close()


def drill(scenarios, seconds=20.0, clients=16, people=3000, primary_port=5491, out=sys.stdout):
    """Build the clusters, run the scenarios in order (failover last), remove everything."""
    clusters = Clusters(primary_port, primary_port + 1)
    server = None
    results = {}
    try:
        clusters.create()
        import psycopg

        with psycopg.connect(clusters.url(primary_port, "postgres"), autocommit=True) as c:
            c.execute("CREATE DATABASE lineup")
        seeded = subprocess.run(
            [sys.executable, __file__, "--seed", clusters.url(primary_port), str(people)],
            check=True,
            capture_output=True,
            cwd=BASE_DIR,
            text=True,
        )
        ids = json.loads(seeded.stdout.strip().splitlines()[-1])
        remaining = ids["people"]
        port = free_port()
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        server = subprocess.Popen(
            [gunicorn, "-c", "config/gunicorn.py", "--access-logfile=/dev/null", "config.wsgi"],
            cwd=BASE_DIR,
            env=server_env(clusters.app_url(), port),
            start_new_session=True,
            stderr=subprocess.DEVNULL,
        )
        wait_until_listening(port, server, "gunicorn")
        asyncio.run(_warm(port))  # imports and first connections are not what is measured
        order = [s for s in ("restart", "kill", "failover") if s in scenarios]
        for name in order:
            share = len(remaining) // (len(order) - order.index(name))
            batch, remaining = remaining[:share], remaining[share:]
            results[name] = run_scenario(
                clusters, name, port, batch, ids["slots"], seconds, clients, out
            )
            if server.poll() is not None:
                results[name][0].append("the app server died")
    finally:
        if server is not None:
            _stop(server)
        clusters.remove()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="storm length per scenario")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--port", type=int, default=5491, help="the primary's; standby +1")
    parser.add_argument(
        "--scenario", action="append", choices=["restart", "kill", "failover"], default=None
    )
    parser.add_argument("--seed", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(args.seed[0], int(args.seed[1]))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # clean up on a kill too
    results = drill(
        args.scenario or ["restart", "kill", "failover"],
        seconds=args.seconds,
        clients=args.clients,
        people=args.people,
        primary_port=args.port,
    )
    return 1 if any(problems for problems, _, _ in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
