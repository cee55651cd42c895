"""Changes to entries that exist: cancel, move, status steps, expired holds, slot cancels."""

from datetime import timedelta

import pytest
from django.utils import timezone

from common.models import AuditEvent
from registrations import services
from registrations.errors import (
    ConcurrentChange,
    ScheduleClash,
    SlotFull,
    SlotUnavailable,
    StatusConflict,
)
from registrations.models import Registration
from registrations.services import changing
from tests.factories import (
    ParticipantFactory,
    SlotFactory,
    register,
    reload,
)
from tournaments.models import Slot, Tournament

pytestmark = pytest.mark.django_db


class TestCancel:
    def test_it_frees_the_place_at_once_and_records_why(self, slot, participant):
        registration = register(slot, participant)
        cancelled = services.registration_cancel(
            registration=registration, actor="public", reason="ill"
        )
        assert cancelled.status == Registration.Status.CANCELLED
        assert cancelled.cancelled_at is not None
        assert reload(slot).reserved_count == 0
        event = AuditEvent.objects.get(action="registration.cancel")
        assert event.payload["reason"] == "ill"

    def test_it_refuses_to_cancel_twice(self, slot, participant):
        registration = register(slot, participant)
        services.registration_cancel(registration=registration, actor="test")
        with pytest.raises(StatusConflict, match="already cancelled"):
            services.registration_cancel(registration=registration, actor="test")
        assert reload(slot).reserved_count == 0

    def test_it_refuses_a_stale_version(self, slot, participant):
        registration = register(slot, participant)
        services.registration_check_in(registration=registration, actor="desk")
        with pytest.raises(ConcurrentChange):
            services.registration_cancel(
                registration=registration, actor="test", expected_version=1
            )


class TestMove:
    def test_it_moves_the_places_between_slots(self, tournament, participant):
        source = SlotFactory(time_block__tournament=tournament)
        target = SlotFactory(
            time_block__tournament=tournament, starts_at=source.starts_at + timedelta(hours=1)
        )
        registration = register(source, participant)

        moved = services.registration_move(
            registration=registration, to_slot_id=target.pk, actor="org"
        )
        assert moved.slot_id == target.pk
        assert (reload(source).reserved_count, reload(target).reserved_count) == (0, 1)
        event = AuditEvent.objects.get(action="registration.move")
        assert (event.payload["from_slot"], event.payload["to_slot"]) == (
            str(source.pk),
            str(target.pk),
        )
        assert event.payload["from"]["room"] == str(source.location)
        assert event.payload["reason"] == ""

    def test_it_refuses_a_full_target(self, tournament):
        source = SlotFactory(time_block__tournament=tournament)
        target = SlotFactory(
            time_block__tournament=tournament, starts_at=source.starts_at + timedelta(hours=1)
        )
        register(target, ParticipantFactory())
        registration = register(source, ParticipantFactory())

        with pytest.raises(SlotFull):
            services.registration_move(registration=registration, to_slot_id=target.pk, actor="org")
        assert (reload(source).reserved_count, reload(target).reserved_count) == (1, 1)

    def test_it_refuses_a_move_that_clashes_elsewhere(self, tournament, participant):
        source = SlotFactory(time_block__tournament=tournament)
        target = SlotFactory(
            time_block__tournament=tournament, starts_at=source.starts_at + timedelta(hours=1)
        )
        elsewhere = SlotFactory(starts_at=target.starts_at)
        register(elsewhere, participant)
        registration = register(source, participant)

        with pytest.raises(ScheduleClash):
            services.registration_move(registration=registration, to_slot_id=target.pk, actor="org")

    def test_it_refuses_a_slot_of_another_tournament(self, slot, participant):
        registration = register(slot, participant)
        with pytest.raises(SlotUnavailable, match="another tournament"):
            services.registration_move(
                registration=registration, to_slot_id=SlotFactory().pk, actor="org"
            )

    def test_it_refuses_a_cancelled_registration(self, tournament, participant):
        source = SlotFactory(time_block__tournament=tournament)
        target = SlotFactory(
            time_block__tournament=tournament, starts_at=source.starts_at + timedelta(hours=1)
        )
        registration = register(source, participant)
        services.registration_cancel(registration=registration, actor="test")
        with pytest.raises(StatusConflict, match="cannot be moved"):
            services.registration_move(registration=registration, to_slot_id=target.pk, actor="org")


class TestReviewedEdges:
    def test_a_typed_name_entry_can_be_moved(self, tournament):
        source = SlotFactory(time_block__tournament=tournament)
        target = SlotFactory(
            time_block__tournament=tournament, starts_at=source.starts_at + timedelta(hours=1)
        )
        walk_in = register(source, entrant_name="Walk In")

        moved = services.registration_move(registration=walk_in, to_slot_id=target.pk, actor="org")
        assert moved.slot_id == target.pk
        assert (reload(source).reserved_count, reload(target).reserved_count) == (0, 1)

    def test_an_expired_hold_cannot_be_confirmed_by_the_public(self, slot, participant):
        Tournament.objects.filter(pk=slot.tournament_id).update(hold_minutes=10)
        slot.tournament.refresh_from_db()
        held = register(slot, participant, hold=True)
        Registration.objects.filter(pk=held.pk).update(
            hold_expires_at=timezone.now() - timedelta(seconds=1)
        )

        with pytest.raises(StatusConflict, match="expired"):
            services.registration_confirm(registration=held, actor="public")
        assert reload(held).status == Registration.Status.RESERVED
        # An organizer may still keep it while expire_holds has not released it.
        kept = services.registration_confirm(registration=held, actor="org", allow_expired=True)
        assert kept.status == Registration.Status.CONFIRMED

    def test_the_public_cancel_refuses_a_checked_in_entry(self, slot, participant):
        registration = register(slot, participant)
        services.registration_check_in(registration=registration, actor="desk")

        with pytest.raises(StatusConflict, match="checked in can no longer be cancelled"):
            services.registration_cancel(registration=registration, actor="public", by_entrant=True)

    def test_the_public_cancel_refuses_once_the_slot_has_started(self, slot, participant):
        registration = register(slot, participant)
        Slot.objects.filter(pk=slot.pk).update(starts_at=timezone.now() - timedelta(minutes=1))

        with pytest.raises(StatusConflict, match="time has started"):
            services.registration_cancel(registration=registration, actor="public", by_entrant=True)
        assert reload(slot).reserved_count == 1
        assert reload(slot).reserved_count == 1

    def test_an_override_entry_still_cancels_after_the_capacity_was_reset(self, tournament):
        from registrations.services import slot_set_capacity

        slot = SlotFactory(time_block__tournament=tournament, capacity=1)
        first = register(slot, ParticipantFactory())
        extra = services.registration_create(
            override_reason="judge",
            tournament=tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            actor="org",
        )
        services.registration_cancel(registration=first, actor="org")
        slot_set_capacity(slot=slot, capacity=1, actor="org")  # the organizer's capacity now

        services.registration_cancel(registration=extra, actor="org")
        slot.refresh_from_db()
        assert (slot.reserved_count, slot.capacity) == (0, 1)

    def test_one_stuck_hold_does_not_stop_the_others(self, tournament, monkeypatch):
        Tournament.objects.filter(pk=tournament.pk).update(hold_minutes=10)
        tournament.refresh_from_db()
        slot = SlotFactory(time_block__tournament=tournament, capacity=2)
        holds = [register(slot, ParticipantFactory(), hold=True) for _ in range(2)]
        Registration.objects.filter(pk__in=[h.pk for h in holds]).update(
            hold_expires_at=timezone.now() - timedelta(seconds=1)
        )
        release = changing.release_places
        calls = []

        def out_of_step_once(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise ConcurrentChange("out of step")
            return release(*args, **kwargs)

        monkeypatch.setattr(changing, "release_places", out_of_step_once)
        assert services.registration_expire_holds() == 1
        assert sorted(Registration.objects.values_list("status", flat=True)) == [
            "cancelled",
            "reserved",
        ]


class TestStatusChanges:
    def test_check_in_stamps_the_time(self, slot, participant):
        registration = services.registration_check_in(
            registration=register(slot, participant), actor="desk"
        )
        assert registration.status == Registration.Status.CHECKED_IN
        assert reload(registration).checked_in_at is not None

    def test_a_late_arrival_turns_a_no_show_into_a_check_in(self, slot, participant):
        registration = register(slot, participant)
        services.registration_mark_no_show(registration=registration, actor="desk")
        assert (
            services.registration_check_in(registration=registration, actor="desk").status
            == Registration.Status.CHECKED_IN
        )

    def test_a_cancelled_registration_cannot_check_in(self, slot, participant):
        registration = register(slot, participant)
        services.registration_cancel(registration=registration, actor="test")
        with pytest.raises(StatusConflict, match="cancelled cannot be checked in"):
            services.registration_check_in(registration=registration, actor="desk")

    def test_no_show_keeps_the_place(self, slot, participant):
        registration = register(slot, participant)
        services.registration_mark_no_show(registration=registration, actor="desk")
        assert reload(slot).reserved_count == 1
        assert AuditEvent.objects.filter(action="registration.marked_no_show").count() == 1

    def test_confirm_turns_a_hold_into_a_place(self, slot, participant):
        Tournament.objects.filter(pk=slot.tournament_id).update(hold_minutes=10)
        slot.tournament.refresh_from_db()
        registration = services.registration_confirm(
            registration=register(slot, participant, hold=True), actor="public"
        )
        assert registration.status == Registration.Status.CONFIRMED
        assert reload(registration).hold_expires_at is None


class TestExpireHolds:
    def test_it_releases_only_expired_holds(self, tournament):
        Tournament.objects.filter(pk=tournament.pk).update(hold_minutes=10)
        tournament.refresh_from_db()
        slot = SlotFactory(time_block__tournament=tournament, capacity=3)
        stale = register(slot, ParticipantFactory(), hold=True)
        fresh = register(slot, ParticipantFactory(), hold=True)
        Registration.objects.filter(pk=stale.pk).update(
            hold_expires_at=timezone.now() - timedelta(seconds=1)
        )

        assert services.registration_expire_holds() == 1
        assert reload(stale).status == Registration.Status.CANCELLED
        assert reload(fresh).status == Registration.Status.RESERVED
        assert reload(slot).reserved_count == 1
        assert services.registration_expire_holds() == 0


class TestSlotCancel:
    def test_it_cancels_every_registration_in_it(self, slot):
        for _ in range(2):
            register(slot, ParticipantFactory())
        assert services.slot_cancel(slot=slot, actor="org", reason="Room flooded") == 2

        slot.refresh_from_db()
        assert (slot.status, slot.reserved_count) == (Slot.Status.CANCELLED, 0)
        assert set(Registration.objects.values_list("status", flat=True)) == {"cancelled"}
        assert set(Registration.objects.values_list("cancel_reason", flat=True)) == {"Room flooded"}
