"""Registrations and the audit log, driven through the admin by an organizer."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
from registrations import services as engine
from registrations.models import Registration
from tests.admin_client import add_url, change_url, changelist_url, messages_of, post_action
from tests.factories import (
    LocationFactory,
    ParticipantFactory,
    SlotFactory,
    TeamFactory,
    TournamentFactory,
    reload,
)
from tests.factories import register_someone as register
from tests.otp import enrol, totp_code
from tournaments.models import Slot

pytestmark = pytest.mark.django_db
Status = Registration.Status


def listed(response):
    return {r.pk for r in response.context["cl"].result_list}


@pytest.fixture
def two_slots():
    tournament = TournamentFactory()
    first = SlotFactory(time_block__tournament=tournament, capacity=2)
    second = SlotFactory(
        time_block__tournament=tournament,
        capacity=2,
        starts_at=first.starts_at + timedelta(hours=1),
    )
    return first, second


class TestList:
    def test_search_finds_participant_team_reference_and_contact(self, organizer_client):
        slot = SlotFactory(capacity=5)
        zoe = register(slot, ParticipantFactory(first_name="Zoë", last_name="Núñez"))
        by_mail = register(slot, contact_email="coach.kim@example.org")
        by_phone = register(slot, contact_phone="+44 7700 900123")
        team_slot = SlotFactory(time_block__tournament__team_event=True, capacity=5)
        team = TeamFactory(name="Blue Herons")
        ParticipantFactory.create_batch(2, team=team)
        team_entry = engine.registration_create(
            tournament=team_slot.tournament, slot_id=team_slot.pk, team=team, actor="public"
        )
        url = changelist_url(Registration)

        assert listed(organizer_client.get(url, {"q": "zoe nunez"})) == {zoe.pk}
        assert listed(organizer_client.get(url, {"q": "Núñez"})) == {zoe.pk}
        assert listed(organizer_client.get(url, {"q": "coach.kim"})) == {by_mail.pk}
        assert listed(organizer_client.get(url, {"q": "900123"})) == {by_phone.pk}
        assert listed(organizer_client.get(url, {"q": "herons"})) == {team_entry.pk}
        assert listed(organizer_client.get(url, {"q": zoe.reference})) == {zoe.pk}

    def test_filters_by_tournament_status_room_and_day(self, organizer_client, two_slots):
        first, second = two_slots
        in_first, in_second = register(first), register(second)
        tomorrow_slot = SlotFactory(
            starts_at=first.starts_at - timedelta(days=1),
            time_block__location=LocationFactory(name="Annex"),
        )
        elsewhere = register(tomorrow_slot)
        engine.registration_check_in(registration=in_second, actor="org")
        url = changelist_url(Registration)
        day = timezone.localtime(first.starts_at).date().isoformat()

        assert listed(
            organizer_client.get(url, {"tournament__id__exact": first.tournament_id})
        ) == {in_first.pk, in_second.pk}
        assert listed(organizer_client.get(url, {"status__exact": "checked_in"})) == {in_second.pk}
        assert listed(
            organizer_client.get(url, {"slot__location__id__exact": tomorrow_slot.location_id})
        ) == {elsewhere.pk}
        on_day = organizer_client.get(url, {"day": day})
        assert listed(on_day) == {in_first.pk, in_second.pk}
        assert 'type="date"' in on_day.content.decode()

    @pytest.mark.parametrize("size", [3, 30])
    def test_it_runs_a_fixed_number_of_queries(
        self, organizer_client, django_assert_max_num_queries, size
    ):
        for _ in range(size):
            register(SlotFactory(), contact_email="x@example.org")
        with django_assert_max_num_queries(14):
            response = organizer_client.get(changelist_url(Registration))
        assert len(response.context["cl"].result_list) == size


class TestStatusActions:
    def test_check_in_and_no_show_go_through_the_engine(self, organizer_client, organizer):
        slot = SlotFactory(capacity=3)
        arrived, absent = register(slot), register(slot)

        response = post_action(organizer_client, Registration, "check_in", [arrived])
        assert "1 registration checked in." in messages_of(response)
        response = post_action(organizer_client, Registration, "mark_no_show", [absent])
        assert "1 registration marked as no-show." in messages_of(response)

        assert reload(arrived).status == Status.CHECKED_IN
        assert reload(arrived).checked_in_at is not None
        assert reload(absent).status == Status.NO_SHOW
        assert reload(slot).reserved_count == 2  # a no-show keeps the place
        event = AuditEvent.objects.get(action="registration.checked_in")
        assert event.actor == f"admin:{organizer.username}"

    def test_refusals_are_reported_per_registration(self, organizer_client):
        slot = SlotFactory(capacity=3)
        fine = register(slot)
        gone = register(slot)
        engine.registration_cancel(registration=gone, actor="public")

        response = post_action(organizer_client, Registration, "check_in", [fine, gone])

        shown = messages_of(response)
        assert "1 registration checked in." in shown
        assert any(m.startswith(str(gone)) and "cancelled cannot be checked in" in m for m in shown)
        assert reload(gone).status == Status.CANCELLED

    def test_cancel_needs_a_reason_then_frees_the_places(self, organizer_client):
        slot = SlotFactory(capacity=2)
        registration = register(slot)

        page = post_action(organizer_client, Registration, "cancel", [registration], confirm=True)
        assert "This field is required." in page.content.decode()
        assert reload(registration).status == Status.CONFIRMED

        response = post_action(
            organizer_client,
            Registration,
            "cancel",
            [registration],
            confirm=True,
            reason="Injured wrist",
        )

        assert reload(registration).status == Status.CANCELLED
        assert registration.cancel_reason == "Injured wrist"
        assert reload(slot).reserved_count == 0
        assert "1 registration cancelled; their places are free again." in messages_of(response)
        event = AuditEvent.objects.get(action="registration.cancel", target_id=registration.pk)
        assert event.payload["reason"] == "Injured wrist"


class TestMove:
    def test_the_form_lists_only_slots_that_can_take_them(self, organizer_client, two_slots):
        first, second = two_slots
        registration = register(first)
        full = SlotFactory(
            time_block__tournament=first.tournament,
            capacity=1,
            starts_at=first.starts_at + timedelta(hours=2),
        )
        register(full)
        blocked = SlotFactory(
            time_block__tournament=first.tournament,
            starts_at=first.starts_at + timedelta(hours=3),
            status=Slot.Status.BLOCKED,
        )
        other_tournament = SlotFactory(starts_at=first.starts_at + timedelta(hours=4))

        page = post_action(organizer_client, Registration, "move", [registration])

        offered = set(page.context["form"].fields["slot"].queryset)
        assert offered == {second}
        assert full not in offered and blocked not in offered and first not in offered
        assert other_tournament not in offered

    def test_a_move_goes_through_the_engine_and_is_audited(self, organizer_client, two_slots):
        first, second = two_slots
        registration = register(first)

        response = post_action(
            organizer_client,
            Registration,
            "move",
            [registration],
            confirm=True,
            slot=str(second.pk),
        )

        assert reload(registration).slot == second
        assert (reload(first).reserved_count, reload(second).reserved_count) == (0, 1)
        assert any(m.startswith("1 registration moved to") for m in messages_of(response))
        event = AuditEvent.objects.get(action="registration.move")
        assert event.payload["to_slot"] == str(second.pk)

    def test_when_nothing_has_room_it_points_to_override(self, organizer_client, two_slots):
        first, second = two_slots
        registration = register(first)
        register(second)
        register(second)

        page = post_action(organizer_client, Registration, "move", [registration])

        assert "No open slot has room for 1 place" in page.content.decode()
        assert "Override into a slot" in page.content.decode()

    def test_registrations_of_two_tournaments_cannot_be_moved_together(self, organizer_client):
        one, other = register(SlotFactory()), register(SlotFactory())

        response = post_action(organizer_client, Registration, "move", [one, other])

        assert any("one tournament at a time" in m for m in messages_of(response))


class TestOverride:
    def test_it_needs_a_reason(self, organizer_client, two_slots):
        first, second = two_slots
        registration = register(first)
        register(second)
        register(second)

        page = post_action(
            organizer_client,
            Registration,
            "override",
            [registration],
            confirm=True,
            slot=str(second.pk),
        )

        assert "This field is required." in page.content.decode()
        assert reload(registration).slot == first

    def test_it_places_them_in_a_full_slot_and_grows_its_capacity(
        self, organizer_client, two_slots
    ):
        first, second = two_slots
        registration = register(first)
        register(second)
        register(second)

        page = post_action(organizer_client, Registration, "override", [registration])
        assert second in set(page.context["form"].fields["slot"].queryset)

        response = post_action(
            organizer_client,
            Registration,
            "override",
            [registration],
            confirm=True,
            slot=str(second.pk),
            reason="Accompanist only free then",
        )

        second.refresh_from_db()
        assert reload(registration).slot == second
        assert (second.reserved_count, second.capacity) == (3, 3)
        assert registration.override_seats == 1
        assert any(m.startswith("1 registration placed in") for m in messages_of(response))
        event = AuditEvent.objects.get(action="registration.override")
        assert event.payload["reason"] == "Accompanist only free then"
        assert (event.payload["capacity_before"], event.payload["capacity_after"]) == (2, 3)
        assert not AuditEvent.objects.filter(action="registration.move").exists()
        grown = AuditEvent.objects.get(action="slot.override", target_id=second.pk)
        assert (grown.payload["capacity_before"], grown.payload["capacity_after"]) == (2, 3)


class TestAddAndEdit:
    def test_an_organizer_enters_a_walk_in_through_the_engine(self, organizer_client):
        slot = SlotFactory(capacity=2)
        person = ParticipantFactory()
        url = add_url(Registration)

        chooser = organizer_client.get(url)
        form_page = organizer_client.get(url, {"tournament": slot.tournament_id})
        response = organizer_client.post(
            f"{url}?tournament={slot.tournament_id}",
            {"slot": str(slot.pk), "participant": str(person.pk), "contact_name": "Dad"},
            follow=True,
        )

        assert "tournament" in chooser.context["chooser"].fields
        assert slot in set(form_page.context["form"].fields["slot"].queryset)
        registration = Registration.objects.get(participant=person)
        assert response.redirect_chain[-1][0] == change_url(registration)
        assert registration.slot == slot and registration.contact_name == "Dad"
        assert reload(slot).reserved_count == 1
        assert AuditEvent.objects.filter(
            action="registration.create", target_id=registration.pk, actor="admin:olga"
        ).exists()

    def test_a_full_slot_is_refused_unless_overridden_with_a_reason(self, organizer_client):
        slot = SlotFactory(capacity=1)
        register(slot)
        person = ParticipantFactory()
        url = f"{add_url(Registration)}?tournament={slot.tournament_id}"
        data = {"slot": str(slot.pk), "participant": str(person.pk)}

        refused = organizer_client.post(url, data)
        assert "This slot just filled up" in refused.content.decode()
        assert not Registration.objects.filter(participant=person).exists()

        organizer_client.post(url, {**data, "override_reason": "Regional champion"})

        registration = Registration.objects.get(participant=person)
        assert registration.override_reason == "Regional champion"
        assert reload(slot).capacity == 2

    def test_contact_edits_are_audited_and_the_rest_is_read_only(self, organizer_client):
        registration = register(SlotFactory(), contact_email="old@example.org")

        response = organizer_client.post(
            change_url(registration),
            {
                "contact_name": "Ms Lee",
                "contact_email": "new@example.org",
                "contact_phone": "",
                "status": "cancelled",
                "seats": "9",
                "version": "50",
            },
        )

        assert response.status_code == 302
        registration.refresh_from_db()
        assert registration.contact_email == "new@example.org"
        assert (registration.status, registration.seats, registration.version) == (
            Status.CONFIRMED,
            1,
            2,
        )
        event = AuditEvent.objects.get(action="registration.update_contact")
        assert event.payload["changed"] == ["contact_email", "contact_name"]

    def test_registrations_cannot_be_deleted_only_cancelled(self, organizer_client):
        registration = register(SlotFactory())

        response = organizer_client.get(
            reverse("admin:registrations_registration_delete", args=[registration.pk])
        )

        assert response.status_code == 403


class TestAuditLog:
    def test_history_of_a_registration_shows_what_who_and_when(self, organizer_client):
        first = SlotFactory(capacity=2)
        second = SlotFactory(
            time_block__tournament=first.tournament,
            starts_at=first.starts_at + timedelta(hours=1),
        )
        registration = register(first)
        engine.registration_move(
            registration=registration, to_slot_id=second.pk, actor="admin:olga"
        )
        unrelated = register(first)

        page = organizer_client.get(change_url(registration)).content.decode()
        history_url = reverse("admin:registrations_registration_history", args=[registration.pk])
        assert history_url in page
        response = organizer_client.get(history_url, follow=True)

        events = response.context["cl"].result_list
        assert {e.action for e in events} == {"registration.create", "registration.move"}
        assert unrelated.pk not in {e.target_id for e in events}
        shown = response.content.decode()
        # Sentences with names: the staff member by name, the public pages as such.
        assert "olga moved " in shown and "Someone on the public pages signed up " in shown
        assert f"registration: {registration}" in shown

    def test_it_is_searchable_and_read_only(self, organizer_client):
        registration = register(SlotFactory())
        engine.registration_check_in(registration=registration, actor="admin:desk")
        url = changelist_url(AuditEvent)

        found = organizer_client.get(url, {"q": "admin:desk"})
        event = AuditEvent.objects.get(action="registration.checked_in")

        assert {e.pk for e in found.context["cl"].result_list} == {event.pk}
        assert organizer_client.get(url, {"q": str(registration.pk)}).status_code == 200
        garbled = organizer_client.get(url, {"target_id": "not-a-uuid"})
        assert garbled.status_code == 200
        assert list(garbled.context["cl"].result_list) == []
        assert organizer_client.get(change_url(event)).status_code == 200
        post = organizer_client.post(change_url(event), {"actor": "someone else"})
        assert post.status_code == 403
        assert reload(event).actor == "admin:desk"
        delete = reverse("admin:common_auditevent_delete", args=[event.pk])
        assert organizer_client.post(delete, {"post": "yes"}).status_code == 403

    @pytest.mark.parametrize("size", [3, 30])
    def test_it_runs_a_fixed_number_of_queries(
        self, organizer_client, django_assert_max_num_queries, size
    ):
        for _ in range(size):
            slot = SlotFactory()
            registration = register(slot)
            engine.registration_check_in(registration=registration, actor="org")
        with django_assert_max_num_queries(14):
            response = organizer_client.get(changelist_url(AuditEvent))
        assert len(response.context["cl"].result_list) >= size


class TestAccess:
    def test_the_migration_gives_organizers_exactly_their_permissions(self):
        group = Group.objects.get(name="Organizers")
        codenames = set(group.permissions.values_list("codename", flat=True))

        assert {"change_registration", "view_auditevent", "add_timeblock"} <= codenames
        assert "delete_registration" not in codenames
        assert "delete_tournament" not in codenames
        assert "change_auditevent" not in codenames
        assert not any(c.endswith("_user") or c.endswith("_group") for c in codenames)

    def test_an_organizer_sees_the_back_office_but_not_user_management(self, organizer_client):
        index = organizer_client.get(reverse("admin:index")).content.decode()

        assert "Tournaments" in index and "Registrations" in index
        assert organizer_client.get(reverse("admin:auth_user_changelist")).status_code == 403

    def test_repeated_failed_logins_lock_the_account_out(self, client, organizer, settings):
        settings.AXES_FAILURE_LIMIT = 3
        login = reverse("admin:login")
        for _ in range(3):
            client.post(login, {"username": organizer.username, "password": "wrong"})

        response = client.post(
            login, {"username": organizer.username, "password": "a-long-organizer-password"}
        )

        assert response.status_code == 429
        assert "_auth_user_id" not in client.session
        assert "locked" in response.content.decode().lower()

    def test_a_correct_login_before_the_limit_gets_in(self, client, organizer):
        code = totp_code(enrol(organizer))  # the admin asks for a second factor (2FA)
        login = reverse("admin:login")
        client.post(login, {"username": organizer.username, "password": "wrong"})

        response = client.post(
            login,
            {
                "username": organizer.username,
                "password": "a-long-organizer-password",
                "otp_token": code,
                "next": reverse("admin:index"),
            },
            follow=True,
        )

        assert response.status_code == 200
        assert "Run your tournaments" in response.content.decode()
        assert client.session["_auth_user_id"] == str(organizer.pk)
