from datetime import timedelta

import pytest

from common.models import AuditEvent
from registrations import errors
from registrations import services as registrations
from registrations.models import Registration
from tests.factories import (
    LocationFactory,
    ParticipantFactory,
    SlotFactory,
    TimeBlockFactory,
    TournamentFactory,
)
from tournaments import errors as schedule_errors
from tournaments import services
from tournaments.models import Slot, TimeBlock, TournamentLocation

pytestmark = pytest.mark.django_db


@pytest.fixture
def block():
    # 9:00-10:05 in 10-minute slots: six whole slots, the last five minutes unused.
    block = TimeBlockFactory(slot_minutes=10, slot_capacity=2)
    TimeBlock.objects.filter(pk=block.pk).update(ends_at=block.starts_at + timedelta(minutes=65))
    block.refresh_from_db()
    return block


def generate(block, **kwargs):
    return registrations.time_block_regenerate(time_block=block, actor="org", **kwargs)


def book(slot):
    return registrations.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="test"
    )


class TestGenerateSlots:
    def test_it_splits_the_block_into_whole_slots(self, block):
        result = generate(block)

        slots = list(block.slots.order_by("starts_at"))
        assert result.created == 6
        assert [s.number for s in slots] == [1, 2, 3, 4, 5, 6]
        assert slots[0].starts_at == block.starts_at
        assert slots[-1].ends_at == block.starts_at + timedelta(minutes=60)
        assert {(s.capacity, s.tournament_id, s.location_id) for s in slots} == {
            (2, block.tournament_id, block.location_id)
        }
        assert AuditEvent.objects.filter(action="time_block.generate_slots").count() == 1

    def test_running_it_again_changes_nothing(self, block):
        generate(block)
        before = list(block.slots.values_list("pk", "version"))

        result = generate(block)
        assert (result.created, result.removed, result.changed) == (0, 0, False)
        assert list(block.slots.values_list("pk", "version")) == before
        assert AuditEvent.objects.filter(action="time_block.generate_slots").count() == 1

    def test_a_longer_block_only_adds_the_new_slots(self, block):
        generate(block)
        book(block.slots.get(number=1))
        TimeBlock.objects.filter(pk=block.pk).update(ends_at=block.starts_at + timedelta(hours=2))
        block.refresh_from_db()

        result = generate(block)
        assert (result.created, result.removed, result.kept) == (6, 0, 6)
        assert block.slots.get(number=1).reserved_count == 1

    def test_it_refuses_to_drop_slots_that_hold_registrations(self, block):
        generate(block)
        book(block.slots.get(number=6))
        TimeBlock.objects.filter(pk=block.pk).update(
            ends_at=block.starts_at + timedelta(minutes=30)
        )
        block.refresh_from_db()

        with pytest.raises(schedule_errors.SlotsHoldRegistrations, match="1 slot"):
            generate(block)
        assert block.slots.count() == 6

    def test_forcing_it_cancels_those_registrations(self, block):
        generate(block)
        registration = book(block.slots.get(number=6))
        TimeBlock.objects.filter(pk=block.pk).update(
            ends_at=block.starts_at + timedelta(minutes=30)
        )
        block.refresh_from_db()

        result = generate(block, force=True)
        registration.refresh_from_db()
        assert registration.status == Registration.Status.CANCELLED
        assert result.registrations_cancelled == 1
        assert block.slots.exclude(status=Slot.Status.CANCELLED).count() == 3
        assert block.slots.filter(status=Slot.Status.CANCELLED).count() == 1  # kept for history

    def test_a_new_slot_length_replaces_empty_slots(self, block):
        generate(block)
        TimeBlock.objects.filter(pk=block.pk).update(slot_minutes=20)
        block.refresh_from_db()

        result = generate(block)
        assert (result.created, result.removed) == (3, 6)  # every slot changes length
        assert block.slots.count() == 3

    def test_the_schedule_alone_never_cancels_an_entry(self, block):
        generate(block)
        registration = book(block.slots.get(number=6))
        TimeBlock.objects.filter(pk=block.pk).update(
            ends_at=block.starts_at + timedelta(minutes=30)
        )
        block.refresh_from_db()

        with pytest.raises(schedule_errors.SlotsHoldRegistrations, match="1 slot"):
            services.time_block_generate_slots(time_block=block, actor="org")
        registration.refresh_from_db()
        assert registration.status == Registration.Status.CONFIRMED

    def test_a_resized_slot_takes_in_the_places_overrides_added(self, block):
        TimeBlock.objects.filter(pk=block.pk).update(slot_capacity=1)
        block.refresh_from_db()
        generate(block)
        slot = block.slots.get(number=1)
        first = book(slot)
        extra = registrations.registration_create(
            override_reason="judge",
            tournament=slot.tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            actor="org",
        )
        registrations.registration_cancel(registration=first, actor="org")
        TimeBlock.objects.filter(pk=block.pk).update(slot_capacity=3)
        block.refresh_from_db()

        assert generate(block).resized == 6
        registrations.registration_cancel(registration=extra, actor="org")
        slot.refresh_from_db()
        assert (slot.reserved_count, slot.capacity) == (0, 3)

    def test_it_refuses_a_hand_made_block(self):
        block = TimeBlockFactory(is_manual=True, slot_minutes=None)
        with pytest.raises(schedule_errors.ManualTimeBlock):
            generate(block)

    def test_capacity_follows_the_block_but_not_below_registrations(self, block):
        generate(block)
        first = block.slots.get(number=1)
        book(first)
        book(first)
        TimeBlock.objects.filter(pk=block.pk).update(slot_capacity=1)
        block.refresh_from_db()

        with pytest.raises(schedule_errors.SlotsHoldRegistrations):
            generate(block)
        first.refresh_from_db()
        assert first.capacity == 2


class TestSlotCapacity:
    def test_it_refuses_to_go_below_what_is_taken(self):
        slot = SlotFactory(capacity=3)
        book(slot)
        book(slot)
        with pytest.raises(schedule_errors.CapacityBelowRegistrations, match="2 place"):
            registrations.slot_set_capacity(slot=slot, capacity=1, actor="org")
        slot.refresh_from_db()
        assert slot.capacity == 3

    def test_it_changes_and_audits(self):
        slot = SlotFactory(capacity=3)
        updated = registrations.slot_set_capacity(slot=slot, capacity=5, actor="org")
        assert updated.capacity == 5
        event = AuditEvent.objects.get(action="slot.set_capacity")
        assert (event.payload["capacity_before"], event.payload["capacity_after"]) == (3, 5)


class TestBlockingSlots:
    def test_a_blocked_slot_takes_no_sign_ups_until_unblocked(self):
        slot = SlotFactory(capacity=2)
        assert services.slot_block(slot=slot, actor="org") is True
        with pytest.raises(errors.SlotUnavailable):
            book(slot)

        assert services.slot_unblock(slot=slot, actor="org") is True
        assert book(slot).slot_id == slot.pk
        assert list(
            AuditEvent.objects.filter(target_id=slot.pk)
            .order_by("created_at")
            .values_list("action", flat=True)
        ) == ["slot.block", "slot.unblock"]

    def test_blocking_twice_is_harmless(self):
        slot = SlotFactory()
        services.slot_block(slot=slot, actor="org")
        assert services.slot_block(slot=slot, actor="org") is False


class TestTournamentCap:
    def test_it_refuses_a_cap_below_the_sign_ups(self):
        slot = SlotFactory(capacity=3)
        book(slot)
        book(slot)
        with pytest.raises(schedule_errors.CapacityBelowRegistrations, match="2 participant"):
            registrations.tournament_set_max_participants(
                tournament=slot.tournament, max_participants=1, actor="org"
            )
        assert (
            registrations.tournament_set_max_participants(
                tournament=slot.tournament, max_participants=2, actor="org"
            ).max_participants
            == 2
        )


def test_creating_a_time_block_links_its_room():
    tournament = TournamentFactory()
    room = LocationFactory()
    block = services.time_block_create(
        actor="org",
        tournament=tournament,
        location=room,
        starts_at=TimeBlockFactory.starts_at.function(),
        ends_at=TimeBlockFactory.starts_at.function() + timedelta(hours=1),
        slot_minutes=15,
    )
    assert TournamentLocation.objects.filter(tournament=tournament, location=room).exists()
    assert len(block.planned_slot_times()) == 4
