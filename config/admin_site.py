"""The back office's admin site: with LINEUP_ADMIN_2FA on, staff log in with a password and a
one-time code (django-otp: an authenticator app's TOTP code, or one of their backup codes).

Staff accounts without a confirmed device cannot get in; a superuser enrols them with
`manage.py otp_enrol USERNAME` (docs/deploy.md). Wrong codes count as failed logins for
django-axes, so guessing codes locks the account out like guessing passwords.
"""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from django.urls import reverse
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

NO_DEVICE = (
    "This account has no authenticator yet. Ask an administrator to enrol it (manage.py otp_enrol)."
)


class OTPLoginForm(OTPAdminAuthenticationForm):
    """Password and code in one step: the code's shape picks the device (digits for the app,
    anything else a backup code), so a person never chooses one from a list."""

    otp_token = forms.CharField(
        label="Code from your authenticator app (or a backup code)",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": "Enter the code from your authenticator app or a backup code.",
        "invalid_token": "That code is not right (or was used already). Try the current one.",
        "device_required": NO_DEVICE,
    }

    def _chosen_device(self, user) -> Device | None:
        token = (self.cleaned_data.get("otp_token") or "").strip()
        kind: type[Device] = TOTPDevice if token.isdigit() else StaticDevice
        return next((d for d in devices_for_user(user) if isinstance(d, kind)), None)

    def clean_otp(self, user) -> None:
        try:
            super().clean_otp(user)
        except forms.ValidationError as exc:
            if exc.code not in ("token_required", "device_required"):
                # Tell django-axes: a wrong code (or one tried while django-otp throttles the
                # device after a failure) is a failed login like a wrong password.
                user_login_failed.send(
                    sender=type(self),
                    credentials={"username": user.get_username()},
                    request=self.request,
                )
            raise


class LineupAdminSite(admin.AdminSite):
    """Django's admin site, plus the second factor whenever LINEUP_ADMIN_2FA is on (read per
    request, so tests and the demo can switch it)."""

    @property
    def login_form(self):  # type: ignore[override]
        return OTPLoginForm if settings.LINEUP_ADMIN_2FA else None

    @property
    def login_template(self):  # type: ignore[override]
        return "admin/lineup/login_otp.html" if settings.LINEUP_ADMIN_2FA else None

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return not settings.LINEUP_ADMIN_2FA or request.user.is_verified()  # type: ignore[union-attr]

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list:
        """The admin's apps, with the door's check-in pages listed under Registrations for
        whoever may check entrants in: a volunteer sees that and nothing else."""
        apps = super().get_app_list(request, app_label)
        if app_label not in (None, "registrations") or not request.user.has_perm(
            "registrations.check_in_registration"
        ):
            return apps
        app = next((a for a in apps if a["app_label"] == "registrations"), None)
        if app is None:
            app = {
                "name": "Registrations",
                "app_label": "registrations",
                "app_url": reverse(
                    "admin:app_list", kwargs={"app_label": "registrations"}, current_app=self.name
                ),
                "has_module_perms": True,
                "models": [],
            }
            apps = sorted([*apps, app], key=lambda a: a["name"].lower())
        app["models"].insert(
            0,
            {
                "name": "Check-in at the door",
                "object_name": "CheckIn",
                "perms": {"add": False, "change": False, "delete": False, "view": True},
                "admin_url": reverse("admin:registrations_check_in_start", current_app=self.name),
                "add_url": None,
                "view_only": True,
            },
        )
        return apps
