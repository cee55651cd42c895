"""Give a staff account its second factor: an authenticator app (TOTP) and backup codes."""

import io

import segno
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.commands import get_or_suggest

BACKUP_CODES = 10


class Command(BaseCommand):
    help = (
        "Enrol USERNAME for the admin's two-factor login: prints the authenticator app's "
        "otpauth:// address (and its QR code) and ten single-use backup codes. Both are "
        "secrets: show them to the person only. --replace resets a lost phone."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="remove the account's existing authenticator and backup codes first",
        )
        parser.add_argument("--no-qr", action="store_true", help="print the address only")

    def handle(self, *args, username, replace, no_qr, **options):
        users = get_user_model()._default_manager
        user = get_or_suggest(users, field=users.model.USERNAME_FIELD, value=username, noun="user")
        with transaction.atomic():
            existing = TOTPDevice.objects.filter(user=user).exists()
            if existing and not replace:
                raise CommandError(
                    f"{username} already has an authenticator; add --replace to reset it."
                )
            TOTPDevice.objects.filter(user=user).delete()
            StaticDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(user=user, name="authenticator app")
            backup = StaticDevice.objects.create(user=user, name="backup codes")
            codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
            StaticToken.objects.bulk_create(StaticToken(device=backup, token=c) for c in codes)

        url = device.config_url
        self.stdout.write(f"Authenticator for {username}: scan this or enter the address.\n")
        if not no_qr:
            qr = io.StringIO()
            segno.make(url, micro=False).terminal(out=qr, compact=True)
            self.stdout.write(qr.getvalue())
        self.stdout.write(url)
        self.stdout.write("\nBackup codes (each works once; keep them somewhere safe):")
        for code in codes:
            self.stdout.write(f"  {code}")
        if not user.is_staff:
            self.stderr.write(self.style.WARNING(f"{username} is not staff: no admin access."))
        self.stdout.write(self.style.SUCCESS(f"Enrolled {username}."))
