"""Take a lost second factor away from an account (its sessions lose admin access at once)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.commands import get_or_suggest
from common.text import plural


class Command(BaseCommand):
    help = (
        "Remove USERNAME's authenticator and backup codes (a lost or stolen phone). The account "
        "cannot enter the admin until `otp_enrol USERNAME` gives it new ones."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        users = get_user_model()._default_manager
        user = get_or_suggest(users, field=users.model.USERNAME_FIELD, value=username, noun="user")
        removed = 0
        for model in (TOTPDevice, StaticDevice):
            removed += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
        self.stdout.write(self.style.SUCCESS(f"Removed {plural(removed, 'device')} of {username}."))
