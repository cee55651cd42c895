"""The check-in QR code on the confirmation page and in the e-mails: it encodes the door's
page of that entry and nothing else, and is left out where nobody is expected."""

import pytest
import segno
from django.conf import settings
from django.urls import reverse

from registrations import door_codes, services
from tests.factories import ParticipantFactory, register_someone

pytestmark = pytest.mark.django_db


def entry_path(registration):
    return reverse("admin:registrations_check_in_entry", args=[registration.pk])


def test_the_confirmation_page_shows_the_code_of_the_entrys_check_in(client, slot):
    registration = register_someone(slot)

    response = client.get(reverse("registrations:detail", args=[registration.reference]))

    page = response.content.decode()
    expected = segno.make(f"http://testserver{entry_path(registration)}", error="m")
    assert expected.svg_inline(scale=4, dark="#000", light="#fff")[5:] in page
    assert f'aria-label="{door_codes.LABEL}"' in page
    # The code carries the entry's id only, never its private reference.
    assert registration.reference not in entry_path(registration)


def test_a_cancelled_entry_has_no_code(client, slot):
    registration = register_someone(slot)
    services.registration_cancel(registration=registration, actor="test", reason="")

    response = client.get(reverse("registrations:detail", args=[registration.reference]))

    assert "At the door" not in response.content.decode()
    assert "<svg" not in response.content.decode()


def test_the_confirmation_e_mail_carries_the_code_as_an_inline_image(
    slot, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        registration = register_someone(slot, contact_email="parent@example.com")

    (mail,) = mailoutbox
    html, _ = mail.alternatives[0]
    assert f'src="cid:{door_codes.CONTENT_ID}"' in html
    (image,) = [part for part in mail.attachments if not isinstance(part, tuple)]
    assert image["Content-ID"] == f"<{door_codes.CONTENT_ID}>"
    url = settings.LINEUP_BASE_URL + entry_path(registration)
    assert image.get_payload(decode=True) == door_codes.qr_png(url)
    assert "show the QR code" in mail.body
    raw = mail.message().as_string()
    assert "multipart/related" in raw


def test_the_cancellation_e_mail_has_no_code(slot, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        registration = services.registration_create(
            tournament=slot.tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            contact_email="parent@example.com",
            actor="public",
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_cancel(registration=registration, actor="test", reason="ill")

    cancelled = mailoutbox[-1]
    assert "cancelled" in cancelled.subject
    # Only the cancelled event for the calendar, no image.
    assert [getattr(a, "mimetype", "image") for a in cancelled.attachments] == ["text/calendar"]
    assert "cid:" not in cancelled.alternatives[0][0]
