from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from common.locking import Busy
from common.text import plural
from registrations.models import Registration
from registrations.services import registration_expire_holds


class Command(BaseCommand):
    help = (
        "Release provisional holds (sign-ups awaiting e-mail confirmation) whose time ran "
        "out, giving their places back. Safe to run from cron every minute, even if runs "
        "overlap: each hold is released once. Use -v 0 to stay quiet when nothing expired."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "-n", "--dry-run", action="store_true", help="Count the expired holds, change nothing."
        )

    def handle(self, *args, dry_run, **options):
        if dry_run:
            expired = Registration.objects.filter(
                status=Registration.Status.RESERVED, hold_expires_at__lte=timezone.now()
            ).count()
            self.stdout.write(f"Would release {plural(expired, 'expired hold')}.")
            return
        try:
            released = registration_expire_holds(actor="command:expire_holds")
        except Busy as exc:
            raise CommandError(
                "A hold was locked by another change for too long; the holds released before "
                "it stay released and the next run continues."
            ) from exc
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"Released {plural(released, 'expired hold')}."))
