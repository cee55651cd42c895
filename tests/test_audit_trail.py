"""The audit trail as organizers read it: one sentence per event, with names and local times,
that still reads after the slot is gone; every status and capacity change with before/after."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model

from common.audit_sentences import audit_sentence
from common.models import AuditEvent
from registrations import services
from tests.admin_client import changelist_url, messages_of, post_action
from tests.conftest import make_organizer
from tests.factories import (
    LocationFactory,
    ParticipantFactory,
    SlotFactory,
    TournamentFactory,
    register,
    register_someone,
)
from tournaments.services import slot_block

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Europe/Berlin")


def at(hour, minute=0):
    """A morning two days ahead, in local time (the test settings' zone)."""
    day = (datetime.now(LOCAL) + timedelta(days=2)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL)


@pytest.fixture(autouse=True)
def _local_time_is_berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


@pytest.fixture
def morning():
    tournament = TournamentFactory(name="Spring Piano")
    room_a = LocationFactory(name="Room A", building="")
    room_b = LocationFactory(name="Room B", building="")
    first = SlotFactory(
        time_block__tournament=tournament,
        time_block__location=room_a,
        location=room_a,
        starts_at=at(9),
        ends_at=at(9, 20),
        capacity=1,
    )
    second = SlotFactory(
        time_block__tournament=tournament,
        time_block__location=room_b,
        location=room_b,
        starts_at=at(9, 20),
        ends_at=at(9, 40),
        capacity=1,
    )
    return tournament, first, second


@pytest.fixture
def oscar(db):
    return get_user_model().objects.create_user(username="oscar", first_name="Oscar")


def latest(action):
    return AuditEvent.objects.filter(action=action).latest("created_at")


class TestSentences:
    def test_a_move_reads_with_names_local_times_rooms_and_the_reason(self, morning, oscar):
        _, first, second = morning
        anna = register(first, ParticipantFactory(first_name="Anna", last_name="B."))

        services.registration_move(
            registration=anna, to_slot_id=second.pk, actor="admin:oscar", reason="Clash with choir"
        )

        sentence = audit_sentence(latest("registration.move"))
        assert sentence.startswith("Oscar moved Anna B. from 09:00 Room A to 09:20 Room B on ")
        assert sentence.endswith("(reason: Clash with choir).")

    def test_the_move_still_reads_after_both_slots_are_deleted(self, morning, oscar):
        _, first, second = morning
        anna = register(first, ParticipantFactory(first_name="Anna", last_name="B."))
        services.registration_move(registration=anna, to_slot_id=second.pk, actor="admin:oscar")
        event = latest("registration.move")

        anna.delete()
        first.delete()
        second.delete()

        event.refresh_from_db()
        assert "Oscar moved Anna B. from 09:00 Room A to 09:20 Room B" in audit_sentence(event)

    def test_a_cancel_reads_with_the_status_before_and_after(self, morning):
        _, first, _ = morning
        anna = register(first, ParticipantFactory(first_name="Anna", last_name="B."))

        services.registration_cancel(registration=anna, actor="public", reason="Ill")

        sentence = audit_sentence(latest("registration.cancel"))
        assert sentence.startswith("Someone on the public pages cancelled Anna B. at ")
        assert "09:00 Room A (confirmed → cancelled; reason: Ill)." in sentence

    def test_a_staff_member_without_a_name_reads_as_their_username(self, morning):
        _, first, _ = morning
        make_organizer("kim")
        services.slot_set_capacity(slot=first, capacity=4, actor="admin:kim")

        sentence = audit_sentence(latest("slot.set_capacity"))
        assert sentence.startswith("kim changed the capacity of ")
        assert sentence.endswith("09:00 Room A from 1 to 4.")

    def test_an_override_reads_as_one_and_names_the_capacity_it_added(self, morning, oscar):
        _, first, second = morning
        register_someone(second)
        anna = register(first, ParticipantFactory(first_name="Anna", last_name="B."))

        services.registration_move(
            registration=anna,
            to_slot_id=second.pk,
            actor="admin:oscar",
            override_reason="Accompanist",
        )

        sentence = audit_sentence(latest("registration.override"))
        assert sentence.startswith("Oscar overrode Anna B. from 09:00 Room A to 09:20 Room B")
        assert sentence.endswith("(capacity 1 → 2; reason: Accompanist).")
        slot_side = audit_sentence(latest("slot.override"))
        assert "raised the capacity of" in slot_side and "from 1 to 2" in slot_side

    def test_a_contact_change_shows_old_and_new_values(self, morning, oscar):
        _, first, _ = morning
        anna = register(first, ParticipantFactory(first_name="Anna", last_name="B."))
        services.registration_update_contact(
            registration=anna, actor="admin:oscar", contact_email="new@example.com"
        )

        assert audit_sentence(latest("registration.update_contact")) == (
            "Oscar changed the contact details of Anna B.: contact e-mail (none) → "
            "“new@example.com”."
        )

    def test_commands_read_as_commands(self, morning):
        _, first, _ = morning
        services.slot_cancel(slot=first, actor="command:import_schedule")

        assert audit_sentence(latest("slot.cancel")).startswith(
            "The import_schedule command cancelled the slot "
        )


class TestBeforeAndAfter:
    def test_a_cancel_records_the_status_before_and_after(self, morning):
        _, first, _ = morning
        registration = register_someone(first)

        services.registration_cancel(registration=registration, actor="test")

        payload = latest("registration.cancel").payload
        assert (payload["status_before"], payload["status_after"]) == ("confirmed", "cancelled")

    def test_a_slot_cancel_records_status_places_and_capacity(self, morning):
        _, first, _ = morning
        register_someone(first)
        register_someone(first, override_reason="Sibling")  # capacity 1 → 2

        services.slot_cancel(slot=first, actor="test", reason="Piano broke")

        payload = latest("slot.cancel").payload
        assert (payload["status_before"], payload["status_after"]) == ("open", "cancelled")
        assert (payload["places_taken_before"], payload["places_taken_after"]) == (2, 0)
        assert (payload["capacity_before"], payload["capacity_after"]) == (2, 1)
        cancels = AuditEvent.objects.filter(action="registration.cancel")
        assert {(e.payload["status_before"], e.payload["status_after"]) for e in cancels} == {
            ("confirmed", "cancelled")
        }

    def test_a_contact_change_records_old_and_new_values(self, morning):
        _, first, _ = morning
        registration = register_someone(first, contact_name="Ann", contact_phone="123")

        services.registration_update_contact(
            registration=registration, actor="test", contact_name="Anne", contact_phone="123"
        )

        payload = latest("registration.update_contact").payload
        assert payload["changed"] == ["contact_name"]
        assert (payload["before"], payload["after"]) == (
            {"contact_name": "Ann"},
            {"contact_name": "Anne"},
        )

    def test_the_slot_history_shows_an_override_and_its_capacity_going_back(self, morning):
        _, first, _ = morning
        register_someone(first)
        extra = register_someone(first, override_reason="Sibling")

        services.registration_cancel(registration=extra, actor="test")

        history = AuditEvent.objects.filter(target_id=first.pk).order_by("created_at")
        assert [
            (e.action, e.payload["capacity_before"], e.payload["capacity_after"]) for e in history
        ] == [("slot.override", 1, 2), ("slot.override_given_back", 2, 1)]

    def test_a_move_keeps_an_optional_reason(self, morning):
        _, first, second = morning
        registration = register_someone(first)

        services.registration_move(
            registration=registration, to_slot_id=second.pk, actor="test", reason=" Swap "
        )

        assert latest("registration.move").payload["reason"] == "Swap"

    def test_blocking_a_slot_records_the_status_before_and_after(self, morning):
        _, first, _ = morning
        slot_block(slot=first, actor="test")

        event = latest("slot.block")
        assert (event.payload["status_before"], event.payload["status_after"]) == (
            "open",
            "blocked",
        )
        assert audit_sentence(event).endswith("09:00 Room A (open → blocked).")


class TestAuditAdmin:
    def test_the_list_shows_sentences_to_an_organizer(self, morning, organizer_client, organizer):
        _, first, second = morning
        anna = register(first, ParticipantFactory(first_name="Anna", last_name="B."))
        services.registration_move(
            registration=anna, to_slot_id=second.pk, actor=f"admin:{organizer.username}"
        )

        page = organizer_client.get(changelist_url(AuditEvent))

        assert page.status_code == 200
        assert "olga moved Anna B. from 09:00 Room A to 09:20 Room B" in page.content.decode()

    def test_the_detail_page_shows_the_sentence(self, morning, organizer_client):
        _, first, _ = morning
        register(first, ParticipantFactory(first_name="Anna", last_name="B."))
        event = latest("registration.create")

        page = organizer_client.get(f"{changelist_url(AuditEvent)}{event.pk}/change/")

        assert page.status_code == 200
        assert "test signed up Anna B. for " in page.content.decode()

    def test_the_move_form_takes_an_optional_reason(self, morning, organizer_client):
        from registrations.models import Registration

        _, first, second = morning
        registration = register_someone(first)

        response = post_action(
            organizer_client,
            Registration,
            "move",
            [registration],
            confirm=True,
            slot=str(second.pk),
            reason="Parent asked",
        )

        assert any(m.startswith("1 registration moved to") for m in messages_of(response))
        assert latest("registration.move").payload["reason"] == "Parent asked"
