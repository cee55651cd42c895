"""E-mail worker benchmark (run by hand): throughput and commit-to-delivery delay.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lineup_bench \
        .venv/bin/python bench/notifications.py

Uses (and empties) the database it is given: migrates it, makes one tournament, and drives the
real engine with the database task backend. Mail goes to the locmem backend.
1. Throughput: N sign-ups queue N e-mails, then one in-process worker (the `db_worker` loop)
   sends them all; e-mails per second.
2. Delay: sign-ups at RATE per second for SECONDS while the worker runs beside them in a
   thread; for each e-mail, sent_at minus the commit time (the registration's created_at).
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("HTTPS", "0")
os.environ["TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django_tasks_db.management.commands.db_worker import Worker  # noqa: E402

settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def setup(places):
    from tests.factories import SlotFactory

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    return SlotFactory(capacity=places)


def sign_up(slot, i):
    from registrations import services
    from tests.factories import ParticipantFactory

    services.registration_create(
        tournament=slot.tournament,
        slot_id=slot.pk,
        participant=ParticipantFactory(),
        contact_email=f"p{i}@example.com",
        actor="bench",
    )


def worker(batch):
    return Worker(
        queue_names=["default"],
        interval=0.05,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"bench-{threading.get_ident()}",
        excluded_queue_names=[],
    )


def throughput(count):
    from registrations.models import Notification

    slot = setup(count)
    for i in range(count):
        sign_up(slot, i)
    started = time.perf_counter()
    worker(batch=True).run()
    took = time.perf_counter() - started
    sent = Notification.objects.filter(state="sent").count()
    print(f"throughput: {sent}/{count} e-mails in {took:.2f} s = {sent / took:.0f} e-mails/s")


def delay(rate, seconds):
    from registrations.models import Notification

    total = int(rate * seconds)
    slot = setup(total)
    running = worker(batch=False)
    thread = threading.Thread(target=lambda: (running.run(), connection.close()), daemon=True)
    thread.start()
    started = time.perf_counter()
    for i in range(total):
        sign_up(slot, i)
        pause = started + (i + 1) / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    achieved = total / (time.perf_counter() - started)
    deadline = time.time() + 60
    while Notification.objects.exclude(state="sent").exists() and time.time() < deadline:
        time.sleep(0.1)
    running.running = False
    delays = sorted(
        (n.sent_at - n.registration.created_at).total_seconds()
        for n in Notification.objects.select_related("registration").filter(state="sent")
    )
    p = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]  # noqa: E731
    print(
        f"delay at {achieved:.0f} sign-ups/s (asked {rate}) over {total}: "
        f"median {statistics.median(delays) * 1000:.0f} ms, p95 {p(0.95) * 1000:.0f} ms, "
        f"max {delays[-1] * 1000:.0f} ms; {len(delays)}/{total} sent"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="e-mails for the throughput run")
    parser.add_argument("--rate", type=float, default=100, help="sign-ups per second")
    parser.add_argument("--seconds", type=float, default=5, help="length of the delay run")
    args = parser.parse_args()
    throughput(args.count)
    delay(args.rate, args.seconds)
