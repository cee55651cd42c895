"""The back office on competition day, as an Organizers member: saving a time block and
generating its slots in one trip, a slot length generation would refuse refused on save, the
schedule's summary in words."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from registrations.models import Registration
from tests.admin_client import add_url, change_url, messages_of
from tests.factories import LocationFactory, TimeBlockFactory, TournamentFactory
from tests.tournaments.test_admin import events, register
from tournaments import services
from tournaments.models import Slot, TimeBlock

pytestmark = pytest.mark.django_db


def block_data(block=None, **changes):
    day = timezone.localtime(block.starts_at) if block else timezone.localtime() + timedelta(days=3)
    ends = timezone.localtime(block.ends_at) if block else day + timedelta(hours=1)
    data = {
        "location": str(block.location_id) if block else str(LocationFactory().pk),
        "starts_at_0": f"{day:%Y-%m-%d}",
        "starts_at_1": f"{day:%H:%M:%S}" if block else "14:00:00",
        "ends_at_0": f"{ends:%Y-%m-%d}",
        "ends_at_1": f"{ends:%H:%M:%S}" if block else "15:00:00",
        "slot_minutes": str(block.slot_minutes) if block else "30",
        "slot_capacity": str(block.slot_capacity) if block else "1",
        "notes": "",
    }
    data.update(changes)
    return data


class TestSaveAndGenerate:
    def test_a_new_block_is_saved_and_its_slots_made_in_one_trip(self, organizer_client):
        tournament = TournamentFactory()

        response = organizer_client.post(
            add_url(TimeBlock),
            {"tournament": str(tournament.pk), **block_data(), "_generate": "1"},
            follow=True,
        )

        block = TimeBlock.objects.get(tournament=tournament)
        assert Slot.objects.filter(time_block=block).count() == 2
        assert any("2 created" in m for m in messages_of(response))
        assert response.redirect_chain[-1][0] == change_url(block)
        assert events("time_block.generate_slots", block).count() == 1

    def test_the_button_is_on_the_block_page(self, organizer_client):
        block = TimeBlockFactory()

        page = organizer_client.get(change_url(block)).content.decode()

        assert 'name="_generate"' in page
        assert "Save and generate slots" in page

    def test_a_changed_length_is_saved_and_the_slots_follow(self, organizer_client):
        block = TimeBlockFactory(slot_minutes=10)
        services.time_block_generate_slots(time_block=block, actor="org")

        response = organizer_client.post(
            change_url(block), block_data(block, slot_minutes="20", _generate="1"), follow=True
        )

        assert response.status_code == 200
        live = Slot.objects.filter(time_block=block).exclude(status=Slot.Status.CANCELLED)
        assert sorted({(s.ends_at - s.starts_at).seconds for s in live}) == [1200]
        assert live.count() == 3

    def test_a_length_that_would_drop_a_booked_slot_is_refused_on_save(self, organizer_client):
        block = TimeBlockFactory(slot_minutes=10)
        services.time_block_generate_slots(time_block=block, actor="org")
        last = Slot.objects.filter(time_block=block).order_by("starts_at").last()
        registration = register(last)

        response = organizer_client.post(change_url(block), block_data(block, slot_minutes="20"))

        assert response.status_code == 200  # the form again, with the error
        errors = response.context["adminform"].form.errors
        assert "hold registrations" in " ".join(errors["slot_minutes"])
        block.refresh_from_db()
        assert block.slot_minutes == 10
        registration.refresh_from_db()
        assert registration.status == Registration.Status.CONFIRMED

    def test_fewer_places_than_a_slot_holds_is_refused_on_the_places(self, organizer_client):
        block = TimeBlockFactory(slot_minutes=10, slot_capacity=2)
        services.time_block_generate_slots(time_block=block, actor="org")
        first = Slot.objects.filter(time_block=block).order_by("starts_at").first()
        register(first)
        register(first)

        response = organizer_client.post(change_url(block), block_data(block, slot_capacity="1"))

        errors = response.context["adminform"].form.errors
        assert "hold registrations" in " ".join(errors["slot_capacity"])
        block.refresh_from_db()
        assert block.slot_capacity == 2

    def test_a_change_that_keeps_the_booked_slots_is_saved(self, organizer_client):
        block = TimeBlockFactory(slot_minutes=10)
        services.time_block_generate_slots(time_block=block, actor="org")
        register(Slot.objects.filter(time_block=block).order_by("starts_at").first())

        response = organizer_client.post(
            change_url(block), block_data(block, notes="Bring music stands")
        )

        assert response.status_code == 302
        block.refresh_from_db()
        assert block.notes == "Bring music stands"


class TestScheduleSummary:
    def test_it_reads_as_words(self, organizer_client):
        block = TimeBlockFactory(slot_minutes=20, slot_capacity=1)
        services.time_block_generate_slots(time_block=block, actor="org")
        slots = list(Slot.objects.filter(time_block=block).order_by("starts_at"))
        register(slots[0])
        register(slots[1])
        url = reverse("admin:tournaments_tournament_schedule", args=[block.tournament_id])

        response = organizer_client.get(
            url, {"day": f"{timezone.localtime(block.starts_at):%Y-%m-%d}"}
        )

        summary = " ".join(response.context["summary"].split())
        assert summary == "3 slots this day. 2 of 3 places are taken, 1 is free. 2 slots are full."
        assert "·" not in response.content.decode().split('class="lineup-totals"')[1][:200]
