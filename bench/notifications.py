"""The worker benchmark (run by hand): what `manage.py db_worker` delivers, and how soon.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lineup_bench \\
        .venv/bin/python bench/notifications.py                 # all three, defaults below
    .venv/bin/python bench/notifications.py throughput --count 1000
    .venv/bin/python bench/notifications.py delay --rate 100 --seconds 30 --drivers 4
    .venv/bin/python bench/notifications.py webhooks --count 1000

Uses (and empties) the database it is given: migrates it, makes one tournament of 100 slots,
and drives the real engine (`registration_create`) with the database task backend. The worker
is a real `manage.py db_worker --no-reload` process started here, as in production, with
e-mail going to Django's dummy backend (`EMAIL_URL=dummymail://`: rendered, then dropped).

1. throughput: COUNT sign-ups with an e-mail address queue COUNT e-mails; then one worker
   (`db_worker --batch`) sends them all. E-mails per second from the first sent to the last.
2. delay: sign-ups at RATE per second for SECONDS (DRIVERS processes share the pace) while one
   worker runs beside them; for each e-mail, its `sent_at` minus the moment the sign-up's
   transaction committed (taken by the driver when `registration_create` returned).
3. webhooks: COUNT sign-ups (no e-mail) of a tournament with one webhook endpoint on a local
   receiver (127.0.0.1, a thread of this process that checks every signature and answers
   204) queue COUNT deliveries; one worker (`db_worker --batch`) posts them all. Deliveries
   per second from the first to the last.
"""

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lineup_bench")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("HTTPS", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
os.environ["EMAIL_URL"] = "dummymail://"
os.environ["LINEUP_WEBHOOKS_ALLOW_PRIVATE"] = "1"  # the receiver is on 127.0.0.1
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

SLOTS = 100
SECRET = "whsec_" + "YmVuY2gtb25seS1zZWNyZXQtMzItYnl0ZXMhISE="  # base64 of 32 bytes


def _database_prepare(people: int):
    """An empty database with one open tournament of SLOTS slots and `people` participants;
    returns (tournament, slot ids, participant ids)."""
    from participants.models import Participant
    from tests.factories import SlotFactory, TimeBlockFactory

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    first = SlotFactory(capacity=people)
    block = TimeBlockFactory(tournament=first.tournament, location=first.location)
    slots = [first.pk] + [
        SlotFactory(
            time_block=block,
            number=n,
            capacity=people,
            starts_at=first.starts_at + timedelta(minutes=10 * n),
        ).pk
        for n in range(2, SLOTS + 1)
    ]
    created = Participant.objects.bulk_create(
        Participant(first_name=f"Bench{n}", last_name=f"Person{n}") for n in range(people)
    )
    return first.tournament, slots, [p.pk for p in created]


def _sign_up(tournament, slot_id, participant_id, email: str | None):
    from participants.models import Participant
    from registrations import services

    return services.registration_create(
        tournament=tournament,
        slot_id=slot_id,
        participant=Participant.objects.get(pk=participant_id),
        contact_email=email or "",
        actor="bench",
    )


def _worker(*, batch: bool) -> subprocess.Popen:
    command = [sys.executable, str(ROOT / "manage.py"), "db_worker", "--no-reload", "-v", "0"]
    command += ["--batch", "--no-startup-delay"] if batch else []
    return subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def _per_second(times: list[datetime]) -> float:
    times = sorted(times)
    span = (times[-1] - times[0]).total_seconds()
    return (len(times) - 1) / span if span > 0 else float("nan")


def _batch_worker_run(label: str, model, total: int) -> None:
    """One `db_worker --batch` sends what is queued; report its rate from the rows."""
    started = time.perf_counter()
    process = _worker(batch=True)
    cpu = 0.0
    while process.poll() is None:
        cpu = _cpu_seconds(process.pid)  # the last reading before it exits
        time.sleep(0.2)
    took = time.perf_counter() - started
    sent = list(model.objects.filter(state="sent").values_list("sent_at", flat=True))
    print(
        f"{label}: {len(sent)}/{total} sent, {_per_second(sent):.0f}/s from the first to the "
        f"last ({took:.1f} s with the worker's start-up; worker CPU {cpu:.1f} s, "
        f"{cpu / max(len(sent), 1) * 1000:.1f} ms each; load average {os.getloadavg()[0]:.1f})"
    )


def throughput(count: int) -> None:
    from registrations.models import Notification

    tournament, slots, people = _database_prepare(count)
    for n, person in enumerate(people):
        _sign_up(tournament, slots[n % SLOTS], person, f"p{n}@example.com")
    _batch_worker_run("e-mails", Notification, count)


def _drive(tournament_id, slots, people, rate, first_at, offset, step, out) -> None:
    """One driver process: sign-ups number offset, offset + step, ... each at
    first_at + number / rate; puts (registration id, commit time, lateness) on `out`."""
    from django.db import connections

    connections.close_all()  # the parent's connection is not this process's to use
    from tournaments.models import Tournament

    tournament = Tournament.objects.get(pk=tournament_id)
    done = []
    for number in range(offset, len(people), step):
        due = first_at + number / rate
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        entry = _sign_up(tournament, slots[number % SLOTS], people[number], f"p{number}@e.com")
        committed = time.time()
        done.append((str(entry.pk), committed, max(0.0, committed - due)))
    out.put(done)
    connections.close_all()


def delay(rate: float, seconds: float, drivers: int) -> None:
    from registrations.models import Notification

    total = int(rate * seconds)
    tournament, slots, people = _database_prepare(total + 1)
    probe, people = people[-1], people[:-1]
    worker = _worker(batch=False)
    # The worker's start-up is not part of the delay: drive once it has sent a first e-mail.
    _sign_up(tournament, slots[0], probe, "probe@example.com")
    deadline = time.time() + 120
    while not Notification.objects.filter(state="sent").exists() and time.time() < deadline:
        time.sleep(0.1)
    connection.close()  # forked drivers must not share this connection
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    first_at = time.time() + 1
    processes = [
        context.Process(
            target=_drive, args=(tournament.pk, slots, people, rate, first_at, n, drivers, out)
        )
        for n in range(drivers)
    ]
    cpu_before = _cpu_seconds(worker.pid)
    for process in processes:
        process.start()
    done = [row for _ in processes for row in out.get()]
    for process in processes:
        process.join()
    last_commit = max(committed for _, committed, _ in done)
    achieved = len(done) / (last_commit - first_at)
    deadline = time.time() + 120
    while Notification.objects.exclude(state="sent").exists() and time.time() < deadline:
        time.sleep(0.2)
    worker_cpu = _cpu_seconds(worker.pid) - cpu_before
    worker.terminate()
    worker.wait(timeout=30)
    committed_at = {rid: committed for rid, committed, _ in done}
    sent = Notification.objects.filter(state="sent").values_list("registration_id", "sent_at")
    delays = sorted(
        sent_at.timestamp() - committed_at[str(rid)]
        for rid, sent_at in sent
        if str(rid) in committed_at  # not the probe
    )
    late = sorted(lateness for _, _, lateness in done)
    print(
        f"delay: {len(done)} sign-ups at {achieved:.1f}/s (asked {rate:g}/s for {seconds:g} s, "
        f"{drivers} drivers; a driver ran behind its pace by p50 {statistics.median(late):.3f} "
        f"s, max {late[-1]:.3f} s); {len(delays)}/{len(done)} e-mails sent"
    )
    if delays:
        print(
            f"  commit to sent: p50 {statistics.median(delays) * 1000:.0f} ms, p95 "
            f"{_quantile(delays, 0.95) * 1000:.0f} ms, p99 {_quantile(delays, 0.99) * 1000:.0f} "
            f"ms, max {delays[-1] * 1000:.0f} ms; worker CPU {worker_cpu:.1f} s "
            f"({worker_cpu / len(delays) * 1000:.1f} ms an e-mail); load average "
            f"{os.getloadavg()[0]:.1f}"
        )


class _Receiver(BaseHTTPRequestHandler):
    """Checks each delivery's signature, counts them, answers 204."""

    received = 0
    bad = 0
    lock = threading.Lock()

    def do_POST(self):
        from registrations.sync.http import webhook_signature

        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = webhook_signature(
            secret=SECRET,
            msg_id=self.headers["webhook-id"],
            timestamp=int(self.headers["webhook-timestamp"]),
            body=body,
        )
        with self.lock:
            if self.headers["webhook-signature"] == expected:
                type(self).received += 1
            else:
                type(self).bad += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def webhooks(count: int) -> None:
    from registrations.models import WebhookDelivery, WebhookEndpoint
    from registrations.sync.endpoints import webhook_endpoint_save

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tournament, slots, people = _database_prepare(count)
    webhook_endpoint_save(
        endpoint=WebhookEndpoint(
            tournament=tournament,
            url=f"http://127.0.0.1:{server.server_port}/hook",
            secret=SECRET,
        ),
        actor="bench",
    )
    for n, person in enumerate(people):
        _sign_up(tournament, slots[n % SLOTS], person, None)
    queued = WebhookDelivery.objects.count()
    _batch_worker_run("webhooks", WebhookDelivery, queued)
    print(f"  receiver: {_Receiver.received} with a valid signature, {_Receiver.bad} without")
    server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what", nargs="?", default="all", choices=["all", "throughput", "delay", "webhooks"]
    )
    parser.add_argument("--count", type=int, default=1000, help="e-mails or deliveries queued")
    parser.add_argument("--rate", type=float, default=100, help="sign-ups per second (delay)")
    parser.add_argument("--seconds", type=float, default=30, help="length of the delay run")
    parser.add_argument("--drivers", type=int, default=4, help="processes making sign-ups")
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs")
    if args.what in ("all", "throughput"):
        throughput(args.count)
    if args.what in ("all", "delay"):
        delay(args.rate, args.seconds, args.drivers)
    if args.what in ("all", "webhooks"):
        webhooks(args.count)


if __name__ == "__main__":
    main()
