import pytest

from registrations import services
from registrations.models import Registration

pytestmark = pytest.mark.django_db


def test_the_confirmation_goes_out_after_commit_with_the_private_link(
    slot, participant, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        registration = services.registration_create(
            tournament=slot.tournament,
            slot_id=slot.pk,
            participant=participant,
            contact_email="parent@example.com",
            actor="public",
        )
    assert mailoutbox == []  # nothing is sent while the transaction is open

    for callback in callbacks:
        callback()
    (mail,) = mailoutbox
    assert mail.to == ["parent@example.com"]
    assert slot.tournament.name in mail.subject
    assert f"/r/{registration.reference}/" in mail.body


def test_no_address_means_no_mail(
    slot, participant, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_create(
            tournament=slot.tournament, slot_id=slot.pk, participant=participant, actor="public"
        )
    assert mailoutbox == []
    assert Registration.objects.count() == 1
