"""Time blocks, slots and the schedule pages of the back office, driven through the admin as a
member of the Organizers group."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from registrations import services as engine
from registrations.models import Registration
from tests.admin_client import (
    add_url,
    change_url,
    changelist_url,
    messages_of,
    post_action,
)
from tests.factories import (
    LocationFactory,
    ParticipantFactory,
    SlotFactory,
    TimeBlockFactory,
    TournamentFactory,
)
from tests.tournaments.test_admin import events, register
from tournaments import errors as schedule_errors
from tournaments import services
from tournaments.models import Slot, TimeBlock, TournamentLocation

pytestmark = pytest.mark.django_db


class TestTimeBlocks:
    def make_block(self, minutes=60, slot_minutes=10, capacity=1):
        block = TimeBlockFactory(slot_minutes=slot_minutes, slot_capacity=capacity)
        TimeBlock.objects.filter(pk=block.pk).update(
            ends_at=block.starts_at + timedelta(minutes=minutes)
        )
        block.refresh_from_db()
        return block

    def test_generate_slots_previews_then_creates_them(self, organizer_client):
        block = self.make_block(minutes=65, slot_minutes=10, capacity=2)

        preview = post_action(organizer_client, TimeBlock, "generate_slots", [block])

        assert "6 slots of 10 min, 2 places each: 6 to create" in preview.content.decode()
        assert not Slot.objects.exists()

        response = post_action(organizer_client, TimeBlock, "generate_slots", [block], confirm=True)

        assert Slot.objects.filter(time_block=block).count() == 6
        assert any("6 created, 0 removed" in m for m in messages_of(response))
        assert events("time_block.generate_slots", block).get().payload["created"] == 6
        again = post_action(organizer_client, TimeBlock, "generate_slots", [block])
        assert "already up to date" in again.content.decode()

    def test_generation_that_would_drop_booked_slots_is_refused_clearly(self, organizer_client):
        block = self.make_block(minutes=60, slot_minutes=10)
        services.time_block_generate_slots(time_block=block, actor="org")
        last = Slot.objects.filter(time_block=block).order_by("starts_at").last()
        registration = register(last)
        TimeBlock.objects.filter(pk=block.pk).update(slot_minutes=20)

        preview = post_action(organizer_client, TimeBlock, "generate_slots", [block])
        response = post_action(organizer_client, TimeBlock, "generate_slots", [block], confirm=True)

        assert "Refused: slot " in preview.content.decode()
        assert "holds registrations" in preview.content.decode()
        assert any(
            "1 slot of this time block holds registrations" in m for m in messages_of(response)
        )
        registration.refresh_from_db()
        assert registration.status == Registration.Status.CONFIRMED
        assert Slot.objects.filter(time_block=block).count() == 6

    def test_a_block_is_created_on_its_own_page_through_the_service(self, organizer_client):
        tournament, room = TournamentFactory(), LocationFactory()
        day = timezone.localtime() + timedelta(days=3)

        response = organizer_client.post(
            add_url(TimeBlock),
            {
                "tournament": str(tournament.pk),
                "location": str(room.pk),
                "starts_at_0": f"{day:%Y-%m-%d}",
                "starts_at_1": "14:00:00",
                "ends_at_0": f"{day:%Y-%m-%d}",
                "ends_at_1": "15:00:00",
                "slot_minutes": "30",
                "slot_capacity": "1",
            },
            follow=True,
        )

        block = TimeBlock.objects.get(tournament=tournament)
        assert events("time_block.create", block).exists()
        assert TournamentLocation.objects.filter(tournament=tournament, location=room).exists()
        assert any("Generate slots" in m for m in messages_of(response))

    def test_deleting_a_block_with_bookings_is_refused(self, organizer_client):
        slot = SlotFactory()
        registration = register(slot)
        block = slot.time_block

        response = organizer_client.post(
            reverse("admin:tournaments_timeblock_delete", args=[block.pk]),
            {"post": "yes"},
            follow=True,
        )

        assert TimeBlock.objects.filter(pk=block.pk).exists()
        page = response.content.decode()
        assert "Cannot delete time block" in page
        assert "cannot be deleted: its slots hold registrations" in page
        assert registration.entrant_name in page

    def test_an_empty_block_is_deleted_with_its_slots_and_audited(self, organizer_client):
        block = self.make_block(minutes=30)
        services.time_block_generate_slots(time_block=block, actor="org")

        response = organizer_client.post(
            reverse("admin:tournaments_timeblock_delete", args=[block.pk]),
            {"post": "yes"},
            follow=True,
        )

        assert response.status_code == 200
        assert not TimeBlock.objects.filter(pk=block.pk).exists()
        assert not Slot.objects.exists()
        assert events("time_block.delete", block).exists()

    @pytest.mark.parametrize("size", [3, 30])
    def test_the_list_runs_a_fixed_number_of_queries(
        self, organizer_client, django_assert_max_num_queries, size
    ):
        for _ in range(size):
            register(SlotFactory())
        with django_assert_max_num_queries(12):
            assert organizer_client.get(changelist_url(TimeBlock)).status_code == 200


class TestSlots:
    def test_block_and_unblock_in_bulk(self, organizer_client):
        slots = [SlotFactory(), SlotFactory()]

        response = post_action(organizer_client, Slot, "block", slots)

        assert set(Slot.objects.values_list("status", flat=True)) == {Slot.Status.BLOCKED}
        assert any(m.startswith("2 slots blocked") for m in messages_of(response))
        assert events("slot.block").count() == 2

        response = post_action(organizer_client, Slot, "unblock", slots[:1])
        slots[0].refresh_from_db()
        assert slots[0].status == Slot.Status.OPEN
        assert "1 slot open for sign-up again." in messages_of(response)

    def test_cancel_shows_the_registrations_affected_then_cancels_them(self, organizer_client):
        slot = SlotFactory(capacity=2)
        registration = register(slot, contact_email="parent@example.com")

        page = post_action(organizer_client, Slot, "cancel", [slot]).content.decode()

        assert registration.entrant_name in page
        assert "parent@example.com" in page
        assert "1 registration in these slots will be cancelled" in page
        slot.refresh_from_db()
        assert slot.status == Slot.Status.OPEN

        response = post_action(
            organizer_client, Slot, "cancel", [slot], confirm=True, reason="Room flooded"
        )

        slot.refresh_from_db()
        registration.refresh_from_db()
        assert slot.status == Slot.Status.CANCELLED
        assert registration.status == Registration.Status.CANCELLED
        assert registration.cancel_reason == "Room flooded"
        assert "1 slot cancelled." in messages_of(response)
        assert events("slot.cancel", slot).get().payload["registrations_cancelled"] == 1

    def test_capacity_below_the_places_taken_is_refused_with_a_clear_message(
        self, organizer_client
    ):
        slot = SlotFactory(capacity=3)
        register(slot)
        register(slot)

        response = organizer_client.post(change_url(slot), {"capacity": "1"})

        assert response.status_code == 200
        assert "2 places are already taken in this slot" in response.content.decode()
        slot.refresh_from_db()
        assert slot.capacity == 3

    def test_capacity_changes_go_through_the_service(self, organizer_client):
        slot = SlotFactory(capacity=3)

        response = organizer_client.post(change_url(slot), {"capacity": "5", "version": "77"})

        assert response.status_code == 302
        slot.refresh_from_db()
        assert slot.capacity == 5
        assert slot.version == 2
        assert events("slot.set_capacity", slot).get().payload["capacity_after"] == 5

    def test_a_capacity_cut_that_loses_a_race_is_a_message_not_a_500(
        self, organizer_client, monkeypatch
    ):
        slot = SlotFactory(capacity=3)

        def refuse(**kwargs):
            raise schedule_errors.CapacityBelowRegistrations("3 places are already taken.")

        monkeypatch.setattr(engine, "slot_set_capacity", refuse)
        response = organizer_client.post(change_url(slot), {"capacity": "2"}, follow=True)

        assert response.status_code == 200
        assert "Nothing was saved: 3 places are already taken." in messages_of(response)

    def test_a_slot_is_added_by_hand_to_a_manual_block(self, organizer_client):
        block = TimeBlockFactory(is_manual=True, slot_minutes=None)
        starts = timezone.localtime(block.starts_at)

        response = organizer_client.post(
            add_url(Slot),
            {
                "time_block": str(block.pk),
                "starts_at_0": f"{starts:%Y-%m-%d}",
                "starts_at_1": f"{starts:%H:%M:%S}",
                "ends_at_0": f"{starts:%Y-%m-%d}",
                "ends_at_1": f"{starts + timedelta(minutes=25):%H:%M:%S}",
                "capacity": "4",
            },
        )

        assert response.status_code == 302
        slot = Slot.objects.get(time_block=block)
        assert (slot.tournament, slot.location, slot.capacity) == (
            block.tournament,
            block.location,
            4,
        )
        assert events("slot.create", slot).exists()

    def test_history_shows_the_slots_audit_trail(self, organizer_client):
        slot = SlotFactory()
        register(slot)
        services.slot_block(slot=slot, actor="admin:olga")

        response = organizer_client.get(
            reverse("admin:tournaments_slot_history", args=[slot.pk]), follow=True
        )

        page = response.content.decode()
        assert "olga blocked " in page and "(open → blocked)" in page

    @pytest.mark.parametrize("size", [3, 30])
    def test_the_list_runs_a_fixed_number_of_queries(
        self, organizer_client, django_assert_max_num_queries, size
    ):
        for _ in range(size):
            register(SlotFactory())
        with django_assert_max_num_queries(12):
            assert organizer_client.get(changelist_url(Slot)).status_code == 200


class TestSchedulePages:
    @pytest.fixture
    def day(self):
        tournament = TournamentFactory(name="Violin Finals")
        rooms = [LocationFactory(name="Hall A"), LocationFactory(name="Hall B")]
        slots = []
        for room in rooms:
            block = TimeBlockFactory(
                tournament=tournament, location=room, slot_minutes=30, slot_capacity=1
            )
            services.time_block_generate_slots(time_block=block, actor="org")
            slots += list(block.slots.order_by("starts_at"))
        return tournament, slots

    def test_the_grid_shows_rooms_by_times_with_remaining_places_and_full_slots(
        self, organizer_client, day
    ):
        tournament, slots = day
        register(slots[0], ParticipantFactory(first_name="Ada", last_name="Lovelace"))
        services.slot_block(slot=slots[1], actor="org")

        response = organizer_client.get(
            reverse("admin:tournaments_tournament_schedule", args=[tournament.pk])
        )

        page = response.content.decode()
        assert response.status_code == 200
        assert "Hall A" in page and "Hall B" in page
        assert page.count("lineup-slot--full") == 2  # the legend and the booked slot
        assert "Ada Lovelace" in page
        assert "lineup-slot--blocked" in page
        assert "1 left" in page
        assert "4 slots" in page

    def test_a_day_without_slots_says_so(self, organizer_client, day):
        tournament, _ = day

        response = organizer_client.get(
            reverse("admin:tournaments_tournament_schedule", args=[tournament.pk]),
            {"day": "2001-01-01"},
        )

        assert "No slots on Monday 1 January 2001" in response.content.decode()

    def test_the_run_sheet_lists_each_room_in_order_for_print(self, organizer_client, day):
        tournament, slots = day
        register(slots[2], ParticipantFactory(first_name="Clara", last_name="Schumann"))

        response = organizer_client.get(
            reverse("admin:tournaments_tournament_run_sheet", args=[tournament.pk])
        )

        page = response.content.decode()
        assert "Clara Schumann" in page
        assert "run_sheet.css" in page
        assert page.index("Hall A") < page.index("Hall B")

    def test_the_csv_export_has_the_schedule_for_judges(self, organizer_client, day):
        tournament, slots = day
        register(slots[0], ParticipantFactory(first_name="Zoë", last_name="Núñez"))

        response = organizer_client.get(
            reverse("admin:tournaments_tournament_schedule_csv", args=[tournament.pk])
        )

        assert response["Content-Type"].startswith("text/csv")
        assert f"{tournament.slug}-schedule.csv" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0][:5] == ["Date", "Start", "End", "Room", "Entrant"]
        assert rows[1][4] == "Zoë Núñez"
        assert rows[1][3].startswith("Hall A")

    @pytest.mark.parametrize("size", [2, 12])
    def test_schedule_and_run_sheet_run_a_fixed_number_of_queries(
        self, organizer_client, django_assert_max_num_queries, size
    ):
        tournament = TournamentFactory()
        for _ in range(size):
            block = TimeBlockFactory(tournament=tournament, slot_minutes=20, slot_capacity=2)
            services.time_block_generate_slots(time_block=block, actor="org")
            register(block.slots.first())
        for name in ("schedule", "run_sheet"):
            url = reverse(f"admin:tournaments_tournament_{name}", args=[tournament.pk])
            with django_assert_max_num_queries(11):  # 11th: the session's OTP device
                assert organizer_client.get(url).status_code == 200

    def test_people_outside_the_back_office_cannot_see_the_schedule(self, client, day):
        tournament, _ = day

        response = client.get(
            reverse("admin:tournaments_tournament_schedule", args=[tournament.pk])
        )

        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
