"""Participants and teams in the back office, driven by an organizer."""

import pytest

from common.models import AuditEvent
from participants.models import Participant, Team
from registrations import services as engine
from registrations.models import Registration
from tests.admin_client import add_url, change_url, changelist_url, messages_of, post_action
from tests.factories import ParticipantFactory, SlotFactory, TeamFactory, TournamentFactory
from tests.factories import register_someone as register
from tournaments.models import Tournament

pytestmark = pytest.mark.django_db

PERSON = {
    "first_name": "Zoë",
    "last_name": "Núñez",
    "display_name": "",
    "birth_year": "2012",
    "grade": "8",
    "school": "Hillside",
    "team": "",
    "external_id": "",
    "metadata": "{}",
}


class TestParticipants:
    def test_adding_keeps_the_search_name_filled(self, organizer_client):
        response = organizer_client.post(add_url(Participant), PERSON)

        assert response.status_code == 302
        person = Participant.objects.get()
        assert person.search_name == "zoe nunez"
        assert AuditEvent.objects.filter(action="participant.create", target_id=person.pk)

    def test_editing_refreshes_the_search_name_and_audits(self, organizer_client):
        person = ParticipantFactory(first_name="Jon", last_name="Smith")

        response = organizer_client.post(
            change_url(person), {**PERSON, "first_name": "Jön", "last_name": "Smíth"}
        )

        assert response.status_code == 302
        person.refresh_from_db()
        assert person.search_name == "jon smith"
        event = AuditEvent.objects.get(action="participant.update", target_id=person.pk)
        assert "first_name" in event.payload["changed"]

    def test_search_ignores_accents(self, organizer_client):
        zoe = ParticipantFactory(first_name="Zoë", last_name="Núñez", search_name="zoe nunez")
        ParticipantFactory(first_name="Adam", last_name="Smith")

        response = organizer_client.get(changelist_url(Participant), {"q": "zoe nunez"})

        assert [p.pk for p in response.context["cl"].result_list] == [zoe.pk]

    def test_merge_asks_which_to_keep_then_moves_registrations(self, organizer_client):
        keep = ParticipantFactory(first_name="Zoë", last_name="Núñez")
        duplicate = ParticipantFactory(first_name="Zoe", last_name="Nunez")
        registration = register(SlotFactory(), duplicate)

        page = post_action(organizer_client, Participant, "merge", [keep, duplicate])
        assert set(page.context["form"].fields["keep"].queryset) == {keep, duplicate}

        response = post_action(
            organizer_client,
            Participant,
            "merge",
            [keep, duplicate],
            confirm=True,
            keep=str(keep.pk),
        )

        assert not Participant.objects.filter(pk=duplicate.pk).exists()
        registration.refresh_from_db()
        assert registration.participant == keep
        assert "1 record merged into Zoë Núñez; 1 registration moved to it." in messages_of(
            response
        )

    def test_a_merge_that_would_double_enter_is_refused_with_the_reason(self, organizer_client):
        slot = SlotFactory(capacity=2)
        keep, duplicate = ParticipantFactory(), ParticipantFactory()
        register(slot, keep)
        register(slot, duplicate)

        response = post_action(
            organizer_client,
            Participant,
            "merge",
            [keep, duplicate],
            confirm=True,
            keep=str(keep.pk),
        )

        assert Participant.objects.filter(pk=duplicate.pk).exists()
        assert any("was not merged: Both are signed up" in m for m in messages_of(response))

    def test_merging_one_record_asks_for_two(self, organizer_client):
        response = post_action(organizer_client, Participant, "merge", [ParticipantFactory()])

        assert "Select at least two records of the same person." in messages_of(response)

    @pytest.mark.parametrize("size", [3, 30])
    def test_the_list_runs_a_fixed_number_of_queries(
        self, organizer_client, django_assert_max_num_queries, size
    ):
        team = TeamFactory()
        for _ in range(size):
            register(SlotFactory(), ParticipantFactory(team=team))
        with django_assert_max_num_queries(12):
            response = organizer_client.get(changelist_url(Participant))
        assert len(response.context["cl"].result_list) == size


class TestTeams:
    def test_editing_a_team_is_audited(self, organizer_client):
        team = TeamFactory(name="Herons")

        response = organizer_client.post(
            change_url(team),
            {
                "name": "Blue Herons",
                "school": team.school,
                "coach_name": team.coach_name,
                "coach_email": team.coach_email,
                "coach_phone": "",
            },
        )

        assert response.status_code == 302
        team.refresh_from_db()
        assert team.name == "Blue Herons"
        assert AuditEvent.objects.get(action="team.update").payload["changed"] == ["name"]

    def test_a_team_is_booked_into_one_slot_of_an_individual_event(self, organizer_client):
        team = TeamFactory()
        members = ParticipantFactory.create_batch(3, team=team)
        slot = SlotFactory(capacity=4)
        too_small = SlotFactory(capacity=2, time_block__tournament=slot.tournament)

        page = post_action(organizer_client, Team, "book_into_slot", [team])
        offered = set(page.context["form"].fields["slot"].queryset)
        assert slot in offered and too_small not in offered

        response = post_action(
            organizer_client, Team, "book_into_slot", [team], confirm=True, slot=str(slot.pk)
        )

        assert set(
            Registration.objects.filter(slot=slot).values_list("participant_id", flat=True)
        ) == {m.pk for m in members}
        slot.refresh_from_db()
        assert slot.reserved_count == 3
        assert any(m.startswith("3 members of") for m in messages_of(response))

    def test_a_team_event_gets_one_entry_with_every_member(self, organizer_client):
        team = TeamFactory()
        ParticipantFactory.create_batch(2, team=team)
        slot = SlotFactory(capacity=4, time_block__tournament__team_event=True)

        post_action(
            organizer_client, Team, "book_into_slot", [team], confirm=True, slot=str(slot.pk)
        )

        entry = Registration.objects.get(team=team)
        assert (entry.slot, entry.seats, entry.members.count()) == (slot, 2, 2)

    def test_booking_is_all_or_none(self, organizer_client):
        team = TeamFactory()
        members = ParticipantFactory.create_batch(3, team=team)
        slot = SlotFactory(capacity=5)
        register(
            SlotFactory(
                time_block__tournament=slot.tournament, starts_at=slot.starts_at.replace(hour=7)
            ),
            members[1],
        )

        response = post_action(
            organizer_client, Team, "book_into_slot", [team], confirm=True, slot=str(slot.pk)
        )

        assert not Registration.objects.filter(slot=slot).exists()
        assert any(
            m.startswith(f"Nobody was booked: {members[1].full_name}")
            for m in messages_of(response)
        )

    def test_a_closed_tournament_needs_an_override_reason(self, organizer_client):
        team = TeamFactory()
        ParticipantFactory.create_batch(2, team=team)
        slot = SlotFactory(capacity=4, time_block__tournament__status=Tournament.Status.CLOSED)

        refused = post_action(
            organizer_client, Team, "book_into_slot", [team], confirm=True, slot=str(slot.pk)
        )
        assert any("not open for sign-up" in m for m in messages_of(refused))

        post_action(
            organizer_client,
            Team,
            "book_into_slot",
            [team],
            confirm=True,
            slot=str(slot.pk),
            override_reason="Late entry agreed by the jury",
        )
        assert Registration.objects.filter(slot=slot).count() == 2

    @pytest.mark.parametrize("size", [3, 30])
    def test_the_list_runs_a_fixed_number_of_queries(
        self, organizer_client, django_assert_max_num_queries, size
    ):
        tournament = TournamentFactory(entry_kind=Tournament.EntryKind.TEAM)
        for _ in range(size):
            team = TeamFactory()
            ParticipantFactory.create_batch(2, team=team)
            slot = SlotFactory(capacity=3, time_block__tournament=tournament)
            engine.registration_create(tournament=tournament, slot_id=slot.pk, team=team, actor="x")
        with django_assert_max_num_queries(12):
            response = organizer_client.get(changelist_url(Team))
        assert len(response.context["cl"].result_list) == size
