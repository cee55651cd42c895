"""The admin's two-factor login (config/admin_site.py) and its enrolment commands."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.otp import enrol, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-organizer-password"


def log_in(client, user, code=None, password=PASSWORD):
    data = {"username": user.username, "password": password, "next": reverse("admin:index")}
    if code is not None:
        data["otp_token"] = code
    return client.post(reverse("admin:login"), data)


def is_in(client) -> bool:
    return client.get(reverse("admin:index")).status_code == 200


def test_the_login_page_asks_for_the_code(client):
    html = client.get(reverse("admin:login")).content.decode()
    assert 'name="otp_token"' in html and "authenticator app" in html


def test_a_password_and_the_app_code_get_in(client, organizer):
    response = log_in(client, organizer, totp_code(enrol(organizer)))
    assert response.status_code == 302
    assert is_in(client)


def test_a_password_alone_does_not(client, organizer):
    enrol(organizer)
    response = log_in(client, organizer)
    assert "Enter the code from your authenticator app" in response.content.decode()
    assert not is_in(client)


def test_an_account_without_a_device_cannot_get_in_and_is_told_why(client, organizer):
    response = log_in(client, organizer, "123456")
    assert "has no authenticator yet" in response.content.decode()
    assert not is_in(client)


def test_a_wrong_code_is_refused(client, organizer):
    code = totp_code(enrol(organizer))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = log_in(client, organizer, wrong)
    assert "That code is not right" in response.content.decode()
    assert not is_in(client)


def test_a_backup_code_works_once(client, organizer):
    call_command("otp_enrol", organizer.username, "--no-qr", stdout=io.StringIO())
    code = StaticToken.objects.filter(device__user=organizer).first().token
    assert log_in(client, organizer, code).status_code == 302
    client.logout()

    response = log_in(client, organizer, code)

    assert "That code is not right" in response.content.decode()
    assert not is_in(client)


def test_a_logged_in_staff_session_without_the_second_factor_is_sent_to_log_in(client, organizer):
    client.force_login(organizer)
    session = client.session
    del session[DEVICE_ID_SESSION_KEY]  # the password step only
    session.save()
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_five_wrong_passwords_still_lock_the_account_out(client, organizer):
    code = totp_code(enrol(organizer))
    for _ in range(5):
        log_in(client, organizer, code, password="wrong")

    response = log_in(client, organizer, code)

    assert response.status_code == 429
    assert not is_in(client)


def test_wrong_codes_count_towards_the_lock_out(client, organizer, settings):
    settings.AXES_FAILURE_LIMIT = 3
    enrol(organizer)
    for _ in range(3):
        log_in(client, organizer, "000000")

    response = log_in(client, organizer, "000000")

    assert response.status_code == 429


def test_the_demo_logs_in_with_a_password_alone(client, organizer, settings):
    settings.LINEUP_ADMIN_2FA = False
    assert log_in(client, organizer).status_code == 302
    assert is_in(client)


def test_enrolment_prints_the_address_the_qr_code_and_backup_codes(organizer, capsys):
    call_command("otp_enrol", organizer.username)
    out = capsys.readouterr().out
    assert "otpauth://totp/" in out and ("█" in out or "▀" in out)
    codes = set(StaticToken.objects.filter(device__user=organizer).values_list("token", flat=True))
    assert len(codes) == 10 and all(code in out for code in codes)
    assert TOTPDevice.objects.get(user=organizer).confirmed


def test_enrolling_again_needs_replace_which_resets_a_lost_phone(client, organizer):
    old = enrol(organizer)
    with pytest.raises(CommandError, match="--replace"):
        call_command("otp_enrol", organizer.username, "--no-qr")
    call_command("otp_enrol", organizer.username, "--no-qr", "--replace")
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert TOTPDevice.objects.filter(user=organizer).count() == 1


def test_reset_takes_the_devices_and_the_verified_session_away(client, organizer):
    client.force_login(organizer)  # verified by a device (tests/conftest.py)
    assert is_in(client)

    call_command("otp_reset", organizer.username)

    assert not TOTPDevice.objects.filter(user=organizer).exists()
    assert not StaticDevice.objects.filter(user=organizer).exists()
    assert not is_in(client)
