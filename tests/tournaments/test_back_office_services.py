"""The schedule services the back office added: status changes, cancel, duplicate, edits."""

from datetime import timedelta

import pytest

from common.models import AuditEvent
from registrations import errors
from registrations import services as engine
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
from tournaments.models import Slot, Tournament

pytestmark = pytest.mark.django_db


class TestTournamentCancel:
    def test_it_cancels_registrations_with_and_without_a_slot(self):
        slot = SlotFactory(capacity=3)
        tournament = slot.tournament
        placed = engine.registration_create(
            tournament=tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="public"
        )
        unplaced = engine.registration_create(
            tournament=tournament, participant=ParticipantFactory(), actor="public"
        )

        cancelled = engine.tournament_cancel(tournament=tournament, actor="org")

        assert cancelled == 2
        for registration in (placed, unplaced):
            registration.refresh_from_db()
            assert registration.status == Registration.Status.CANCELLED
        slot.refresh_from_db()
        assert (slot.status, slot.reserved_count) == (Slot.Status.CANCELLED, 0)
        tournament.refresh_from_db()
        assert tournament.status == Tournament.Status.CANCELLED

    def test_public_sign_up_is_refused_afterwards(self):
        slot = SlotFactory(capacity=3)
        engine.tournament_cancel(tournament=slot.tournament, actor="org")

        with pytest.raises(errors.RegistrationError):
            engine.registration_create(
                tournament=Tournament.objects.get(pk=slot.tournament_id),
                slot_id=slot.pk,
                participant=ParticipantFactory(),
                actor="public",
            )

    def test_cancelling_twice_is_refused(self):
        tournament = TournamentFactory(status=Tournament.Status.CANCELLED)

        with pytest.raises(schedule_errors.TournamentStatusConflict, match="already cancelled"):
            engine.tournament_cancel(tournament=tournament, actor="org")


def test_closing_needs_a_published_tournament():
    draft = TournamentFactory(status=Tournament.Status.DRAFT)

    with pytest.raises(schedule_errors.TournamentStatusConflict):
        services.tournament_close(tournament=draft, actor="org")
    assert not AuditEvent.objects.filter(action="tournament.closed").exists()


def test_duplicating_a_manual_block_copies_its_live_slots_empty():
    block = TimeBlockFactory(is_manual=True, slot_minutes=None, slot_capacity=3)
    kept = services.slot_create(
        time_block=block,
        starts_at=block.starts_at,
        ends_at=block.starts_at + timedelta(minutes=20),
        capacity=3,
        actor="org",
    )
    gone = services.slot_create(
        time_block=block,
        starts_at=block.starts_at + timedelta(minutes=30),
        ends_at=block.starts_at + timedelta(minutes=50),
        capacity=3,
        actor="org",
    )
    engine.slot_cancel(slot=gone, actor="org")

    copy = services.tournament_duplicate(tournament=block.tournament, actor="org")

    assert list(copy.slots.values_list("starts_at", "reserved_count")) == [(kept.starts_at, 0)]
    assert copy.slug == f"{block.tournament.slug}-copy"
    again = services.tournament_duplicate(tournament=block.tournament, actor="org")
    assert again.slug == f"{block.tournament.slug}-copy-2"


class TestSlotCreate:
    def test_it_refuses_a_generated_block(self):
        block = TimeBlockFactory()

        with pytest.raises(schedule_errors.ManualTimeBlock):
            services.slot_create(
                time_block=block,
                starts_at=block.starts_at,
                ends_at=block.ends_at,
                capacity=1,
                actor="org",
            )

    def test_it_refuses_times_outside_the_block_or_overlapping(self):
        block = TimeBlockFactory(is_manual=True, slot_minutes=None)
        services.slot_create(
            time_block=block,
            starts_at=block.starts_at,
            ends_at=block.starts_at + timedelta(minutes=30),
            capacity=1,
            actor="org",
        )

        with pytest.raises(schedule_errors.SlotOutsideBlock):
            services.slot_create(
                time_block=block,
                starts_at=block.starts_at - timedelta(minutes=5),
                ends_at=block.starts_at + timedelta(minutes=5),
                capacity=1,
                actor="org",
            )
        with pytest.raises(schedule_errors.ScheduleError, match="overlaps"):
            services.slot_create(
                time_block=block,
                starts_at=block.starts_at + timedelta(minutes=20),
                ends_at=block.starts_at + timedelta(minutes=40),
                capacity=1,
                actor="org",
            )
        assert block.slots.count() == 1


def test_an_edit_lowering_the_cap_below_the_entries_changes_nothing():
    slot = SlotFactory(capacity=3)
    for _ in range(2):
        engine.registration_create(
            tournament=slot.tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="p"
        )

    with pytest.raises(schedule_errors.CapacityBelowRegistrations):
        engine.tournament_update(
            tournament=slot.tournament, actor="org", max_participants=1, name="Renamed"
        )

    slot.tournament.refresh_from_db()
    assert slot.tournament.name != "Renamed"
    assert slot.tournament.max_participants is None


class TestCreateGroup:
    def test_everyone_gets_an_entry_in_the_same_slot(self):
        slot = SlotFactory(capacity=3)
        people = ParticipantFactory.create_batch(3)

        created = engine.registration_create_group(
            tournament=slot.tournament, slot_id=slot.pk, participants=people, actor="org"
        )

        assert {r.participant_id for r in created} == {p.pk for p in people}
        slot.refresh_from_db()
        assert slot.reserved_count == 3

    def test_one_refusal_enters_nobody(self):
        slot = SlotFactory(capacity=2)
        people = ParticipantFactory.create_batch(3)

        with pytest.raises(errors.SlotFull, match=people[2].full_name):
            engine.registration_create_group(
                tournament=slot.tournament, slot_id=slot.pk, participants=people, actor="org"
            )

        slot.refresh_from_db()
        assert slot.reserved_count == 0
        assert not Registration.objects.exists()


def test_a_new_room_for_a_block_moves_its_slots_with_it():
    slot = SlotFactory()
    elsewhere = LocationFactory(name="Gym")

    services.time_block_update(time_block=slot.time_block, actor="org", location=elsewhere)

    slot.refresh_from_db()
    assert slot.location == elsewhere
    assert slot.tournament.locations.filter(pk=elsewhere.pk).exists()
    assert AuditEvent.objects.get(action="time_block.update").payload["changed"] == ["location"]


def test_a_block_never_moves_to_another_tournament():
    block = TimeBlockFactory()

    with pytest.raises(schedule_errors.ScheduleError, match="another tournament"):
        services.time_block_update(time_block=block, actor="org", tournament=TournamentFactory())


def test_a_tournament_with_entries_keeps_its_entry_kind():
    slot = SlotFactory()
    engine.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="t"
    )
    with pytest.raises(
        schedule_errors.ScheduleError, match="cannot change between individual and team"
    ):
        engine.tournament_update(tournament=slot.tournament, actor="org", entry_kind="team")
    slot.tournament.refresh_from_db()
    assert slot.tournament.entry_kind == "individual"
