"""A staff session that passed the second factor, the way django_otp.login() leaves it."""

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def verify_session(client: Client, user) -> TOTPDevice:
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="test phone", defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def enrol(user) -> TOTPDevice:
    """A confirmed authenticator app for `user`, as `manage.py otp_enrol` makes it."""
    return TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    """The code the person's app shows right now."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"
