from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from tournaments.management.demo import (
    MIN_PARTICIPANTS,
    DemoRefused,
    demo_admin_ensure,
    demo_festival_load,
)


class _RollBack(Exception):
    """Ends a dry run: everything it loaded is undone."""


class Command(BaseCommand):
    help = (
        "Load a demo festival (tournaments, rooms, three days of time blocks and slots, "
        "participants, teams and registrations) and print the admin address and login. "
        "Refuses a database that holds anything else; safe to run again. With DEBUG off the "
        "admin password is random (printed once) unless given with --admin-password. "
        "With -n/--dry-run it loads everything, says what it would add, and undoes it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "-n",
            "--dry-run",
            action="store_true",
            help="Check and count everything, then write nothing.",
        )
        parser.add_argument(
            "--admin-username", default="demo", help="The demo organizer login (default demo)."
        )
        parser.add_argument(
            "--admin-password",
            help="Set this password (it must pass the password rules when DEBUG is off).",
        )
        parser.add_argument(
            "--participants",
            type=int,
            default=300,
            help=f"How many participants to make (default 300, at least {MIN_PARTICIPANTS}).",
        )
        parser.add_argument(
            "--base-url",
            default=settings.LINEUP_BASE_URL,
            help="Where Lineup is reached, for the printed links (default LINEUP_BASE_URL).",
        )

    def handle(
        self, *args, admin_username, admin_password, participants, base_url, dry_run, **options
    ):
        if participants < MIN_PARTICIPANTS:
            raise CommandError(
                f"--participants must be at least {MIN_PARTICIPANTS} (the teams and the demo's "
                "sign-ups need them)."
            )
        try:
            with transaction.atomic():
                summary = demo_festival_load(participants=participants)
                login = demo_admin_ensure(username=admin_username, password=admin_password)
                if dry_run:
                    raise _RollBack()
        except _RollBack:
            pass
        except DemoRefused as exc:
            raise CommandError(exc.message) from exc
        except ValidationError as exc:
            raise CommandError(f"--admin-password: {' '.join(exc.messages)}") from exc

        if summary.loaded:
            headline = "Would load the demo festival" if dry_run else "Loaded the demo festival"
        else:
            added = "would be added" if dry_run else "was added"
            headline = f"The demo festival was already loaded; nothing {added}"
        self.stdout.write(
            self.style.SUCCESS(
                f"{headline}: {summary.tournaments} tournaments, {summary.rooms} rooms, "
                f"{summary.days} days, {summary.participants} participants, {summary.teams} "
                f"teams, {summary.registrations} registrations."
            )
        )
        if dry_run:
            self.stdout.write("Nothing was written (dry run).")
            return
        base_url = base_url.rstrip("/")
        password = login.password or "(unchanged; set one with --admin-password)"
        self.stdout.write(f"\n  Lineup:   {base_url}/")
        self.stdout.write(f"  Admin:    {base_url}{reverse('admin:index')}")
        self.stdout.write(f"  Login:    {login.username} / {password}\n")
        if login.password and not settings.DEBUG and not admin_password:
            self.stdout.write(
                self.style.WARNING("  This password is shown only now: keep it somewhere safe.")
            )
