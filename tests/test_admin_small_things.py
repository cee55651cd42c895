"""The back office's small things, driven as an Organizers member: the lock-out page, the
dashboard's recent actions, delete wording, the move and override pages, a substitute in a
team entry, the age a roster gave, the favicon."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
from participants.services import participant_create, team_create
from registrations import services
from registrations.models import Registration
from tests.admin_client import change_url, changelist_url, messages_of, post_action
from tests.factories import (
    ParticipantFactory,
    SlotFactory,
    TimeBlockFactory,
    TournamentFactory,
    register,
    register_someone,
)
from tests.otp import enrol, totp_code
from tournaments.models import TimeBlock, Tournament

pytestmark = pytest.mark.django_db


def reload(obj):
    obj.refresh_from_db()
    return obj


class TestLockOut:
    def log_in(self, client, user, code, password):
        return client.post(
            reverse("admin:login"),
            {"username": user.username, "password": password, "otp_token": code},
        )

    def test_the_lock_out_page_looks_like_the_admin_and_says_how_long_and_whom_to_ask(
        self, client, organizer, settings
    ):
        settings.LINEUP_ADMIN_CONTACT = "Sam at the festival office"
        code = totp_code(enrol(organizer))
        for _ in range(5):
            self.log_in(client, organizer, code, "wrong")

        response = self.log_in(client, organizer, code, "a-long-organizer-password")

        page = response.content.decode()
        assert response.status_code == 429
        assert "admin/css/base.css" in page  # the admin's own look
        assert "locked for 1 hour after 5 failed logins" in page
        assert "Ask Sam at the festival office to unlock it." in page
        assert reverse("admin:login") in page

    def test_without_a_contact_it_names_who_gave_the_account(self, client, organizer, settings):
        settings.AXES_COOLOFF_TIME = 0.5
        code = totp_code(enrol(organizer))
        for _ in range(6):
            response = self.log_in(client, organizer, code, "wrong")

        page = response.content.decode()
        assert response.status_code == 429
        assert "locked for 30 minutes" in page
        assert "Ask the person who gave you your account" in page


class TestDashboard:
    def test_recent_actions_are_the_latest_audit_events_as_sentences(
        self, organizer_client, organizer
    ):
        slot = SlotFactory(capacity=3)
        anna = register(slot, ParticipantFactory(first_name="Anna", last_name="B."))
        services.registration_cancel(
            registration=anna, actor=f"admin:{organizer.username}", reason="Ill"
        )

        page = organizer_client.get(reverse("admin:index")).content.decode()

        assert "None available" not in page
        assert "olga cancelled Anna B. at " in page
        assert "(confirmed → cancelled; reason: Ill)." in page
        assert reverse("admin:common_auditevent_changelist") in page

    def test_an_empty_trail_says_so(self, organizer_client):
        page = organizer_client.get(reverse("admin:index")).content.decode()
        assert "Nothing has happened yet" in page

    def test_the_admin_has_its_own_favicon(self, organizer_client):
        page = organizer_client.get(reverse("admin:index")).content.decode()
        assert 'rel="icon" href="/static/lineup_admin/favicon.svg"' in page


class TestDeleteWording:
    @pytest.fixture
    def boss_client(self, client):
        boss = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-long-1")
        client.force_login(boss)
        return client

    def test_deleting_a_tournament_says_it_is_kept(self, boss_client):
        tournament = TournamentFactory(name="Old Cup")
        url = reverse("admin:tournaments_tournament_delete", args=[tournament.pk])

        page = boss_client.get(url).content.decode()

        assert "Nothing is erased" in page
        assert "will be deleted" not in page
        boss_client.post(url, {"post": "yes"})
        assert Tournament.objects.filter(pk=tournament.pk, deleted_at__isnull=False).exists()

    def test_a_tournament_with_entries_is_refused_before_anyone_confirms(self, boss_client):
        slot = SlotFactory()
        register_someone(slot)
        url = reverse("admin:tournaments_tournament_delete", args=[slot.tournament_id])

        page = boss_client.get(url).content.decode()

        assert "cannot be deleted yet: people are still signed up" in page
        assert "1 entry still signed up" in page
        assert "Yes, delete it" not in page

    def test_a_booked_time_block_is_refused_in_words_of_a_refusal(self, organizer_client):
        slot = SlotFactory()
        register_someone(slot)
        url = reverse("admin:tournaments_timeblock_delete", args=[slot.time_block_id])

        page = organizer_client.get(url).content.decode()

        assert "cannot be deleted: its slots hold registrations" in page
        assert "would require deleting" not in page
        assert TimeBlock.objects.filter(pk=slot.time_block_id).exists()

    def test_an_unbooked_time_block_is_really_deleted(self, organizer_client):
        block = TimeBlockFactory()
        url = reverse("admin:tournaments_timeblock_delete", args=[block.pk])
        organizer_client.post(url, {"post": "yes"})
        assert not TimeBlock.objects.filter(pk=block.pk).exists()


class TestMoveAndOverridePages:
    @pytest.fixture
    def two_slots(self):
        first = SlotFactory(capacity=2)
        second = SlotFactory(
            time_block=first.time_block, number=2, starts_at=first.ends_at, capacity=2
        )
        return first, second

    def test_one_entry_is_moved_with_move_it(self, organizer_client, two_slots):
        first, _ = two_slots
        one = register_someone(first)

        page = post_action(organizer_client, Registration, "move", [one]).content.decode()

        assert 'value="Move it"' in page
        assert 'name="reason"' in page

    def test_two_entries_are_moved_with_move_them(self, organizer_client, two_slots):
        first, _ = two_slots
        both = [register_someone(first), register_someone(first)]

        page = post_action(organizer_client, Registration, "move", both).content.decode()

        assert 'value="Move them"' in page

    def test_the_override_message_shows_the_capacity_after_the_change(
        self, organizer_client, two_slots
    ):
        first, second = two_slots
        register_someone(second)
        register_someone(second)
        moving = register_someone(first)

        response = post_action(
            organizer_client,
            Registration,
            "override",
            [moving],
            confirm=True,
            slot=str(second.pk),
            reason="Sibling",
        )

        (message,) = [m for m in messages_of(response) if m.startswith("1 registration placed")]
        assert message.endswith("FULL (3 of 3).")


class TestSubstitutes:
    @pytest.fixture
    def quartet(self):
        tournament = TournamentFactory(team_event=True)
        slot = SlotFactory(time_block__tournament=tournament, capacity=4)
        team = team_create(actor="test", name="Lincoln Quartet")
        ann, ben, cleo = (
            participant_create(actor="test", first_name=name, last_name="Lee", team=team)
            for name in ("Ann", "Ben", "Cleo")
        )
        entry = services.registration_create(
            tournament=tournament, slot_id=slot.pk, team=team, members=[ann, ben], actor="test"
        )
        return entry, slot, (ann, ben, cleo)

    def test_a_substitute_swaps_in_through_the_engine_with_a_reason(
        self, organizer_client, quartet
    ):
        entry, slot, (ann, _, cleo) = quartet

        response = post_action(
            organizer_client,
            Registration,
            "change_members",
            [entry],
            confirm=True,
            members=[str(ann.pk), str(cleo.pk)],
            reason="Ben is ill; Cleo plays",
        )

        assert "Lincoln Quartet now has 2 members" in " ".join(messages_of(response))
        assert set(reload(entry).members.values_list("name", flat=True)) == {
            "Ann Lee",
            "Cleo Lee",
        }
        assert reload(slot).reserved_count == 2
        event = AuditEvent.objects.get(action="registration.change_members")
        assert (event.payload["left"], event.payload["joined"]) == (["Ben Lee"], ["Cleo Lee"])
        assert event.payload["reason"] == "Ben is ill; Cleo plays"
        assert event.actor == "admin:olga"

    def test_one_more_member_takes_a_place_and_needs_room(self, quartet):
        entry, slot, (ann, ben, cleo) = quartet
        services.registration_change_members(
            registration=entry, members=[ann, ben, cleo], reason="Trio now", actor="test"
        )
        assert (reload(slot).reserved_count, reload(entry).seats) == (3, 3)
        payload = AuditEvent.objects.get(action="registration.change_members").payload
        assert (payload["seats_before"], payload["seats_after"]) == (2, 3)
        assert (payload["places_taken_before"], payload["places_taken_after"]) == (2, 3)

    def test_a_full_slot_refuses_one_more_and_changes_nothing(self, organizer_client, quartet):
        entry, slot, (ann, ben, cleo) = quartet
        services.slot_set_capacity(slot=slot, capacity=2, actor="test")

        page = post_action(
            organizer_client,
            Registration,
            "change_members",
            [entry],
            confirm=True,
            members=[str(ann.pk), str(ben.pk), str(cleo.pk)],
            reason="Trio now",
        ).content.decode()

        assert "errornote" in page
        assert reload(entry).seats == 2
        assert reload(slot).reserved_count == 2
        assert not AuditEvent.objects.filter(action="registration.change_members").exists()

    def test_the_reason_is_required(self, organizer_client, quartet):
        entry, _, (ann, _, cleo) = quartet

        page = post_action(
            organizer_client,
            Registration,
            "change_members",
            [entry],
            confirm=True,
            members=[str(ann.pk), str(cleo.pk)],
            reason="",
        ).content.decode()

        assert "This field is required" in page
        assert set(reload(entry).members.values_list("name", flat=True)) == {"Ann Lee", "Ben Lee"}

    def test_an_individual_entry_has_no_members_to_change(self, organizer_client):
        one = register_someone(SlotFactory())

        response = post_action(organizer_client, Registration, "change_members", [one])

        assert "Choose one team entry" in " ".join(messages_of(response))


class TestAge:
    def test_organizers_see_the_age_a_roster_gave_with_its_day(self, organizer_client):
        person = participant_create(
            actor="test",
            first_name="Ada",
            last_name="King",
            age=12,
            age_given_on=timezone.localdate(),
        )

        listing = organizer_client.get(changelist_url(type(person))).content.decode()
        detail = organizer_client.get(change_url(person)).content.decode()

        assert "12 (given " in listing
        assert "12 (given " in detail

    def test_an_age_needs_its_day(self):
        from django.db import IntegrityError

        with pytest.raises(IntegrityError):
            ParticipantFactory(age=12, age_given_on=None)
