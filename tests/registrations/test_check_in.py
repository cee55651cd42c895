"""Check-in at the door, driven as an Organizers member and as a Volunteers member: the list,
the search, the three buttons, the QR code's page, and what a volunteer may not do."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
from registrations import services as engine
from registrations.models import Registration
from tests.admin_client import change_url, changelist_url, messages_of
from tests.factories import (
    ParticipantFactory,
    SlotFactory,
    TeamFactory,
    TournamentFactory,
    reload,
)
from tests.factories import register_someone as register
from tournaments.models import Slot, Tournament

pytestmark = pytest.mark.django_db
Status = Registration.Status


def page_url(tournament, **params):
    url = reverse("admin:registrations_check_in", args=[tournament.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def act_url(registration):
    return reverse("admin:registrations_check_in_act", args=[registration.pk])


def entry_url(registration):
    return reverse("admin:registrations_check_in_entry", args=[registration.pk])


def names(response):
    return [entry.entrant_name for entry in response.context["entries"]]


def tap(client, registration, action, **extra):
    registration = reload(registration)
    data = {"action": action, "version": registration.version, "next": "/admin/", **extra}
    return client.post(act_url(registration), data)


@pytest.fixture
def day():
    """A tournament with three times in two rooms on one day, two entrants in each."""
    tournament = TournamentFactory(name="Spring Piano")
    first = SlotFactory(time_block__tournament=tournament, capacity=3)
    second = SlotFactory(
        time_block__tournament=tournament,
        capacity=3,
        starts_at=first.starts_at + timedelta(hours=1),
    )
    other_room = SlotFactory(
        time_block__tournament=tournament,
        capacity=3,
        starts_at=first.starts_at + timedelta(minutes=30),
    )
    people = {
        "Zoë Núñez": register(first, ParticipantFactory(first_name="Zoë", last_name="Núñez")),
        "Ann Lee": register(first, ParticipantFactory(first_name="Ann", last_name="Lee")),
        "Bo Li": register(second, ParticipantFactory(first_name="Bo", last_name="Li")),
        "Cy Ra": register(other_room, ParticipantFactory(first_name="Cy", last_name="Ra")),
    }
    return {
        "tournament": tournament,
        "first": first,
        "second": second,
        "other_room": other_room,
        **people,
    }


class TestTheList:
    def test_it_lists_the_next_entrants_first_with_a_running_count(self, organizer_client, day):
        response = organizer_client.get(page_url(day["tournament"]))

        assert response.status_code == 200
        assert names(response) == ["Ann Lee", "Zoë Núñez", "Cy Ra", "Bo Li"]
        count = response.context["count"]
        assert (count.entries, count.checked_in, count.no_show, count.to_come) == (4, 0, 0, 4)
        assert "0</strong> of 4 checked in" in response.content.decode()

    def test_slots_that_are_over_go_after_those_to_come(self, organizer_client, day):
        over = SlotFactory(
            time_block__tournament=day["tournament"],
            capacity=1,
            starts_at=day["first"].starts_at + timedelta(days=1),
        )
        register(over, ParticipantFactory(first_name="Al", last_name="Early"))
        earlier = timezone.now() - timedelta(days=1)
        Slot.objects.filter(pk=over.pk).update(
            starts_at=earlier, ends_at=earlier + timedelta(minutes=10)
        )

        response = organizer_client.get(page_url(day["tournament"], day="all"))

        assert names(response)[-1] == "Al Early"

    def test_it_narrows_to_a_room_and_to_one_time(self, organizer_client, day):
        room = day["other_room"].location_id
        by_room = organizer_client.get(page_url(day["tournament"], room=room))
        by_time = organizer_client.get(page_url(day["tournament"], slot=day["second"].pk))

        assert names(by_room) == ["Cy Ra"]
        assert names(by_time) == ["Bo Li"]
        assert by_time.context["count"].entries == 1

    def test_search_ignores_accents_and_case_and_finds_team_members(self, organizer_client, day):
        team_slot = SlotFactory(time_block__tournament__team_event=True, capacity=6)
        team = TeamFactory(name="Blue Herons")
        ParticipantFactory(first_name="Dana", last_name="Oak", team=team)
        ParticipantFactory(first_name="Eli", last_name="Oak", team=team)
        engine.registration_create(
            tournament=team_slot.tournament, slot_id=team_slot.pk, team=team, actor="public"
        )

        assert names(organizer_client.get(page_url(day["tournament"], q="ZOE nun"))) == [
            "Zoë Núñez"
        ]
        found = organizer_client.get(page_url(team_slot.tournament, q="oak"))
        assert names(found) == ["Blue Herons"]  # once, though two members match
        assert "Dana Oak, Eli Oak" in found.content.decode()

    def test_a_search_that_finds_nobody_says_so(self, organizer_client, day):
        response = organizer_client.get(page_url(day["tournament"], q="nobody-here"))

        assert names(response) == []
        assert "Nobody entered in Spring Piano matches “nobody-here”" in response.content.decode()

    def test_bad_filters_are_ignored_not_a_500(self, organizer_client, day):
        response = organizer_client.get(
            page_url(day["tournament"], day="32-13", room="x", slot="nope", page="zz", q="\x00")
        )

        assert response.status_code == 200
        assert len(names(response)) == 4

    def test_the_list_never_shows_contacts(self, volunteer_client, day):
        slot = day["first"]
        register(slot, contact_email="parent@example.com", contact_phone="+44 7700 900123")

        page = volunteer_client.get(page_url(day["tournament"])).content.decode()

        assert "parent@example.com" not in page
        assert "7700" not in page

    def test_it_pages_long_lists(self, organizer_client):
        slot = SlotFactory(capacity=60, time_block__slot_capacity=60)
        for _ in range(55):
            register(slot)

        response = organizer_client.get(page_url(slot.tournament))

        assert len(names(response)) == 50
        assert "Page 1 of 2" in response.content.decode()
        assert len(names(organizer_client.get(page_url(slot.tournament, page=2)))) == 5

    def test_the_start_page_puts_todays_tournaments_first(self, organizer_client, day):
        TournamentFactory(name="Cancelled one", status=Tournament.Status.CANCELLED)

        response = organizer_client.get(reverse("admin:registrations_check_in_start"))

        shown = [t.name for t in response.context["tournaments"]]
        assert "Spring Piano" in shown
        assert "Cancelled one" not in shown


class TestTheButtons:
    def test_check_in_then_undo_as_a_volunteer_audited_with_their_name(self, volunteer_client, day):
        anna = day["Ann Lee"]

        response = tap(volunteer_client, anna, "check_in", next=page_url(day["tournament"]))

        assert response.status_code == 302
        assert response["Location"].endswith(f"#entry-{anna.pk}")
        assert reload(anna).status == Status.CHECKED_IN
        assert reload(anna).checked_in_at is not None
        listed = volunteer_client.get(page_url(day["tournament"]))
        assert listed.context["count"].checked_in == 1

        tap(volunteer_client, anna, "undo")

        assert reload(anna).status == Status.CONFIRMED
        assert reload(anna).checked_in_at is None
        events = AuditEvent.objects.filter(target_id=anna.pk).order_by("created_at")
        assert [(e.action, e.actor) for e in events][-2:] == [
            ("registration.checked_in", "admin:vera"),
            ("registration.check_in_undone", "admin:vera"),
        ]
        payload = events.last().payload
        assert (payload["status_before"], payload["status_after"]) == ("checked_in", "confirmed")

    def test_no_show_then_a_late_arrival(self, volunteer_client, day):
        bo = day["Bo Li"]

        tap(volunteer_client, bo, "no_show")
        assert reload(bo).status == Status.NO_SHOW
        tap(volunteer_client, bo, "check_in")
        assert reload(bo).status == Status.CHECKED_IN

    def test_a_second_tap_on_a_stale_row_is_refused_with_a_message(self, volunteer_client, day):
        anna = day["Ann Lee"]
        seen = reload(anna).version
        engine.registration_check_in(registration=anna, actor="admin:other")

        response = volunteer_client.post(
            act_url(anna), {"action": "check_in", "version": seen, "next": "/admin/"}, follow=True
        )

        assert any("at the same moment" in m for m in messages_of(response))
        assert (
            AuditEvent.objects.filter(target_id=anna.pk, action="registration.checked_in").count()
            == 1
        )

    def test_undo_of_someone_not_checked_in_says_there_is_nothing_to_undo(
        self, volunteer_client, day
    ):
        response = tap(volunteer_client, day["Cy Ra"], "undo")

        assert reload(day["Cy Ra"]).status == Status.CONFIRMED
        assert any("nothing to undo" in m for m in messages_of(response))

    def test_an_unknown_action_or_a_foreign_next_changes_nothing(self, volunteer_client, day):
        cy = day["Cy Ra"]

        bad = tap(volunteer_client, cy, "delete")
        foreign = tap(volunteer_client, cy, "check_in", next="https://evil.example/")

        assert bad.status_code == 302
        assert any("Choose check in" in m for m in messages_of(bad))
        assert foreign["Location"].startswith(entry_url(cy))
        assert reload(cy).status == Status.CHECKED_IN

    def test_a_get_never_acts(self, volunteer_client, day):
        assert volunteer_client.get(act_url(day["Cy Ra"])).status_code == 405
        assert reload(day["Cy Ra"]).status == Status.CONFIRMED


class TestTheQrPage:
    def test_it_shows_one_entrant_with_the_buttons(self, volunteer_client, day):
        response = volunteer_client.get(entry_url(day["Bo Li"]))

        page = response.content.decode()
        assert response.status_code == 200
        assert "Bo Li" in page and "Check in" in page and "No-show" in page
        assert "Ann Lee" not in page

    def test_anyone_not_staff_gets_the_login_page_and_no_data(self, client, day):
        response = client.get(entry_url(day["Bo Li"]))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
        posted = client.post(act_url(day["Bo Li"]), {"action": "check_in"})
        assert posted.status_code == 302
        assert reload(day["Bo Li"]).status == Status.CONFIRMED

    def test_staff_without_the_check_in_right_are_refused(self, client, day):
        from django.contrib.auth import get_user_model

        clerk = get_user_model().objects.create_user(username="clerk", password="x" * 20)
        clerk.is_staff = True
        clerk.save()
        client.force_login(clerk)

        assert client.get(entry_url(day["Bo Li"])).status_code == 403
        assert client.post(act_url(day["Bo Li"]), {"action": "check_in"}).status_code == 403
        assert reload(day["Bo Li"]).status == Status.CONFIRMED

    def test_an_unknown_entry_is_a_404(self, volunteer_client):
        url = reverse("admin:registrations_check_in_entry", args=[uuid4()])
        assert volunteer_client.get(url).status_code == 404


class TestVolunteersCanDoNothingElse:
    def test_they_cannot_open_or_edit_tournaments_registrations_or_people(
        self, volunteer_client, day
    ):
        anna = day["Ann Lee"]
        for url in (
            changelist_url(Tournament),
            change_url(day["tournament"]),
            changelist_url(Registration),
            change_url(anna),
            reverse("admin:participants_participant_changelist"),
            reverse("admin:common_auditevent_changelist"),
        ):
            assert volunteer_client.get(url).status_code == 403, url
        response = volunteer_client.post(change_url(anna), {"contact_email": "x@example.com"})
        assert response.status_code == 403
        assert reload(anna).contact_email != "x@example.com"

    def test_they_cannot_export(self, volunteer_client, day):
        tournament = day["tournament"]
        for name in (
            "admin:tournaments_tournament_schedule_csv",
            "admin:tournaments_tournament_run_sheet",
            "admin:tournaments_tournament_schedule",
        ):
            response = volunteer_client.get(reverse(name, args=[tournament.pk]))
            assert response.status_code in (302, 403), name
            assert b"Ann Lee" not in response.content

    def test_the_admin_home_leads_them_to_the_check_in(self, volunteer_client):
        response = volunteer_client.get(reverse("admin:index"))

        assert reverse("admin:registrations_check_in_start").encode() in response.content

    def test_the_group_has_the_check_in_right_only(self, volunteer):
        from tests.conftest import volunteers_group

        assert [p.codename for p in volunteers_group().permissions.all()] == [
            "check_in_registration"
        ]
