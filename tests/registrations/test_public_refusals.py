"""A public page words the engine's refusals with the entrant's public display name and
never tells where another booking is; staff keep the full detail."""

from datetime import timedelta

import pytest

from registrations import errors, services
from tests.conftest import form_data, signup_url
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory

pytestmark = pytest.mark.django_db


def test_a_clash_shows_the_display_name_and_nothing_of_the_other_booking(client, slot):
    child = ParticipantFactory(first_name="Zoë", last_name="Núñez")
    elsewhere = SlotFactory(
        time_block__tournament=TournamentFactory(name="Secret Violin Gala"),
        starts_at=slot.starts_at - timedelta(minutes=5),
    )
    services.registration_create(
        tournament=elsewhere.tournament, slot_id=elsewhere.pk, participant=child, actor="test"
    )
    url = signup_url(slot.tournament, participant=child.pk)
    response = client.post(url, form_data(client, url, slot=slot.pk, contact_phone="5550101"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Zoë N. already has another booking" in html
    assert "Núñez" not in html
    assert "Secret Violin Gala" not in html and elsewhere.location.name not in html


def test_already_signed_up_uses_the_display_name(client, slot):
    child = ParticipantFactory(first_name="Zoë", last_name="Núñez")
    services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=child, actor="test"
    )
    later = SlotFactory(time_block__tournament=slot.tournament)
    url = signup_url(slot.tournament, participant=child.pk)
    html = client.post(url, form_data(client, url, slot=later.pk, contact_phone="5550101"))
    assert "Zoë N. is already signed up for this tournament." in html.content.decode()
    assert "Núñez" not in html.content.decode()


def test_the_engine_keeps_the_full_detail_for_staff(slot):
    child = ParticipantFactory(first_name="Zoë", last_name="Núñez")
    services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=child, actor="test"
    )
    with pytest.raises(errors.AlreadyRegistered) as refused:
        services.registration_create(
            tournament=slot.tournament, slot_id=slot.pk, participant=child, actor="test"
        )
    assert "Zoë Núñez" in refused.value.message
    assert refused.value.public_message(who="Zoë N.") == (
        "Zoë N. is already signed up for this tournament."
    )
