"""The check-in QR code on the confirmation page and in the e-mails: it encodes the door's
page of that entry and nothing else, and is left out where nobody is expected."""

import email
import email.policy

import pytest
import segno
from django.conf import settings
from django.urls import reverse

from registrations import door_codes, services
from tests.factories import ParticipantFactory, register_someone

pytestmark = pytest.mark.django_db


def entry_path(registration):
    return door_codes.check_in_path(registration.pk)


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
    (image,) = [part for part in mail.message().walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == f"<{door_codes.CONTENT_ID}>"
    url = settings.LINEUP_BASE_URL + entry_path(registration)
    assert image.get_payload(decode=True) == door_codes.qr_png(url)
    assert "show the QR code" in mail.body


def shape(part):
    """A MIME tree as nested (content type, [children]) or (content type, disposition)."""
    if part.is_multipart():
        return (part.get_content_type(), [shape(child) for child in part.get_payload()])
    return (part.get_content_type(), part.get_content_disposition())


def test_the_confirmation_e_mail_keeps_the_code_inline_and_the_calendar_as_a_file(
    slot, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        register_someone(slot, contact_email="parent@example.com")

    (mail,) = mailoutbox
    # Parsed back from the bytes a mail server would get, as a mail app reads them.
    parsed = email.message_from_bytes(mail.message().as_bytes(), policy=email.policy.default)

    assert shape(parsed) == (
        "multipart/mixed",
        [
            (
                "multipart/related",
                [
                    ("multipart/alternative", [("text/plain", None), ("text/html", None)]),
                    ("image/png", "inline"),
                ],
            ),
            ("text/calendar", "attachment"),
        ],
    )
    related = parsed.get_payload()[0]
    assert related.get_param("type") in (None, "multipart/alternative")
    ics = parsed.get_payload()[1]
    assert ics.get_filename().endswith(".ics")
    assert "BEGIN:VEVENT" in ics.get_content()
    html = parsed.get_body(preferencelist=("html",)).get_content()
    assert f"cid:{door_codes.CONTENT_ID}" in html


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
    # Only the calendar file (to remove the event); no image part.
    assert [a[2] for a in cancelled.attachments] == ["text/calendar"]
    assert not [p for p in cancelled.message().walk() if p.get_content_maintype() == "image"]
    assert "cid:" not in cancelled.alternatives[0][0]


def test_the_mask_is_chosen_once_per_address_and_the_code_stays_the_same(slot, monkeypatch):
    registration = register_someone(slot)
    url = "http://testserver" + entry_path(registration)
    masks_asked = []
    make = segno.make

    def spying_make(*args, **kwargs):
        masks_asked.append(kwargs.get("mask"))
        return make(*args, **kwargs)

    monkeypatch.setattr(segno, "make", spying_make)
    first, again = door_codes.qr_svg(url), door_codes.qr_svg(url)

    best = make(url, error="m", micro=False)
    assert masks_asked == [None, best.mask]  # chosen, then remembered
    assert first == again
    assert best.svg_inline(scale=4, dark="#000", light="#fff")[5:] in again


def test_a_remembered_mask_only_chooses_the_pattern_never_what_the_code_says(slot):
    from django.core.cache import cache

    registration = register_someone(slot)
    url = "http://testserver" + entry_path(registration)
    best = segno.make(url, error="m", micro=False)
    other = (best.mask + 1) % 8
    cache.set(door_codes.mask_key(url), other)  # e.g. left by an older code of the address

    svg = door_codes.qr_svg(url)

    expected = segno.make(url, error="m", micro=False, mask=other)
    assert expected.svg_inline(scale=4, dark="#000", light="#fff")[5:] in svg
    assert (expected.version, expected.error) == (best.version, best.error)


def test_the_codes_short_address_forwards_to_the_doors_page_of_the_entry(client, slot):
    registration = register_someone(slot)
    door_page = reverse("admin:registrations_check_in_entry", args=[registration.pk])

    response = client.get(entry_path(registration))

    assert response.status_code == 302
    assert response["Location"] == door_page
    # Not logged in, the door's page asks for the admin's login and shows nothing of the entry.
    login = client.get(door_page)
    assert login.status_code == 302 and "/admin/login/" in login["Location"]


@pytest.mark.parametrize(
    "code", ["a" * 25, "a" * 27, "!" * 26, "0" * 26, "1" * 26, "8" * 26, "é" * 26]
)
def test_what_is_not_a_door_code_is_not_found(client, code):
    response = client.get(reverse("registrations:door_code", args=[code]))

    assert response.status_code == 404


def test_the_code_is_small_enough_to_read_from_a_phone_at_arms_length(slot):
    registration = register_someone(slot)
    door_page = reverse("admin:registrations_check_in_entry", args=[registration.pk])

    for site, short, long in [
        ("https://lineup.example.org", 4, 7),
        ("https://sign-up.festival.example.org", 5, 7),
    ]:
        # 33 x 33 modules, or 37 x 37 for a longer name; the door's own address makes 45 x 45.
        assert segno.make(site + entry_path(registration), error="m", micro=False).version == short
        assert segno.make(site + door_page, error="m", micro=False).version == long
