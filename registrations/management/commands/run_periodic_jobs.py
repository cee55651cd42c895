import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from registrations.periodic import periodic_jobs_run


class Command(BaseCommand):
    help = (
        "Run Lineup's periodic jobs once: release expired holds, queue the day-before "
        "reminders, re-queue e-mails and webhooks a dead worker left half-sent, and enqueue "
        "the e-mail and webhook retries that are due. Run it from cron every minute, or keep "
        "it running with --every. Safe to overlap with another run."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="Keep running, one pass every SECONDS, until stopped (SIGTERM or Ctrl-C).",
        )

    def handle(self, *args, every, verbosity, **options):
        if every is not None and every <= 0:
            raise CommandError("--every needs a number of seconds above 0.")
        if every is None:
            self._pass(verbosity)
            return
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        try:
            while not stopping:
                self._pass(verbosity)
                # Long-lived: drop a connection that went stale between passes.
                close_old_connections()
                deadline = time.monotonic() + every
                while not stopping and time.monotonic() < deadline:
                    time.sleep(min(0.5, every))
        except KeyboardInterrupt:
            pass

    def _pass(self, verbosity):
        done = periodic_jobs_run()
        if verbosity >= 1:
            summary = ", ".join(
                f"{name}: {'busy' if count < 0 else count}" for name, count in done.items()
            )
            self.stdout.write(self.style.SUCCESS(summary))
