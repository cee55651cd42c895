"""The private reference page (view, confirm, cancel), through Django's test client."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from common.locking import Busy
from registrations import services
from registrations.models import Registration
from tests.conftest import form_data, signup_url
from tests.factories import SlotFactory, TournamentFactory
from tournaments.models import Slot

pytestmark = pytest.mark.django_db


# --- the private reference page -------------------------------------------------------------


@pytest.fixture
def registration(slot, participant):
    return services.registration_create(
        tournament=slot.tournament,
        slot_id=slot.pk,
        participant=participant,
        actor="test",
        contact_email="parent@example.com",
    )


def test_unknown_malformed_and_foreign_references_get_the_same_404(client, registration):
    deleted = TournamentFactory()
    foreign = services.registration_create(tournament=deleted, entrant_name="X Y", actor="test")
    deleted.deleted_at = timezone.now()
    deleted.save()
    pages = set()
    for reference in ["A" * 27, "short", "bad*chars*" * 3, foreign.reference]:
        for name in ("detail", "cancel"):
            response = client.get(reverse(f"registrations:{name}", args=[reference]))
            assert response.status_code == 404
            pages.add(response.content)
        response = client.post(reverse("registrations:confirm", args=[reference]))
        assert response.status_code == 404
        pages.add(response.content)
    assert len(pages) == 1


def test_references_carry_at_least_128_bits(registration):
    # token_urlsafe: 6 bits per character.
    assert len(registration.reference) * 6 >= 128


def test_cancel_asks_first_then_frees_the_place_at_once(client, registration, slot):
    cancel_url = reverse("registrations:cancel", args=[registration.reference])
    page = client.get(cancel_url)
    assert page.status_code == 200
    assert "Cancel this registration?" in page.content.decode()
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED  # asking changed nothing

    response = client.post(cancel_url, {"reason": "Sick"}, follow=True)

    registration.refresh_from_db()
    slot.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
    assert registration.cancel_reason == "Sick"
    assert slot.reserved_count == 0
    html = response.content.decode()
    assert "the place is free" in html
    assert "Cancel this registration" not in html.replace("Cancel this registration?", "")


def test_busy_while_cancelling_is_a_try_again_page_and_changes_nothing(client, registration):
    with mock.patch.object(services, "registration_cancel", side_effect=Busy()):
        response = client.post(reverse("registrations:cancel", args=[registration.reference]))
    assert response.status_code == 503
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_reference_pages_are_rate_limited(client, registration, settings):
    settings.LINEUP_RATE_REFERENCE = "2/h"
    url = reverse("registrations:detail", args=[registration.reference])
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


def test_a_cancelled_registration_cannot_be_cancelled_again(client, registration):
    services.registration_cancel(registration=registration, actor="test")
    response = client.post(
        reverse("registrations:cancel", args=[registration.reference]), follow=True
    )
    assert "already cancelled" in response.content.decode()


def test_a_started_slot_cannot_be_cancelled_online(client, registration, slot):
    Slot.objects.filter(pk=slot.pk).update(
        starts_at=timezone.now() - timedelta(minutes=5), ends_at=timezone.now() + timedelta(1)
    )
    response = client.post(
        reverse("registrations:cancel", args=[registration.reference]), follow=True
    )
    assert "can no longer be cancelled online" in response.content.decode()
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_a_held_registration_is_confirmed_from_its_page(
    client, participant, mailoutbox, django_capture_on_commit_callbacks
):
    slot = SlotFactory(time_block__tournament__hold_minutes=30)
    url = signup_url(slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=slot.pk, contact_email="parent@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        detail = client.post(url, data, follow=True)
    registration = Registration.objects.get()
    assert registration.status == Registration.Status.RESERVED
    html = detail.content.decode()
    assert "please confirm it" in html and "Confirm my place" in html
    assert "Please confirm" in mailoutbox[0].subject
    link = f"http://localhost:8000/r/{registration.reference}/"
    assert f"Confirm, view or cancel it here: {link}" in mailoutbox[0].body

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(
            reverse("registrations:confirm", args=[registration.reference]), follow=True
        )
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED
    assert "Your place is confirmed" in confirmed.content.decode()
    again = client.post(
        reverse("registrations:confirm", args=[registration.reference]), follow=True
    )
    assert "cannot be confirmed" in again.content.decode()


def test_the_reference_page_needs_no_more_queries_for_a_bigger_tournament(client, registration):
    url = reverse("registrations:detail", args=[registration.reference])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) == 1
