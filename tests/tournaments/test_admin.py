"""The tournament back office, driven through the admin as a member of the Organizers group:
the list, its actions and edits, rooms and permissions. Time blocks, slots and the schedule
pages are in `test_admin_schedule.py`."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
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
from tests.factories import register_someone as register
from tournaments import services
from tournaments.models import Location, Slot, TimeBlock, Tournament, TournamentLocation

pytestmark = pytest.mark.django_db


def events(action, target=None):
    found = AuditEvent.objects.filter(action=action)
    return found.filter(target_id=target.pk) if target is not None else found


def tournament_form(tournament, **changes):
    """The tournament change form's POST data, with its (empty) inline formsets."""
    local = timezone.localtime
    data = {
        "name": tournament.name,
        "slug": tournament.slug,
        "category": tournament.category,
        "entry_kind": tournament.entry_kind,
        "time_zone": tournament.time_zone,
        "description": tournament.description,
        "starts_on": tournament.starts_on.isoformat() if tournament.starts_on else "",
        "ends_on": tournament.ends_on.isoformat() if tournament.ends_on else "",
        "registration_opens_at_0": f"{local(tournament.registration_opens_at):%Y-%m-%d}"
        if tournament.registration_opens_at
        else "",
        "registration_opens_at_1": f"{local(tournament.registration_opens_at):%H:%M:%S}"
        if tournament.registration_opens_at
        else "",
        "registration_closes_at_0": f"{local(tournament.registration_closes_at):%Y-%m-%d}"
        if tournament.registration_closes_at
        else "",
        "registration_closes_at_1": f"{local(tournament.registration_closes_at):%H:%M:%S}"
        if tournament.registration_closes_at
        else "",
        "hold_minutes": tournament.hold_minutes or "",
        "waitlist_offer_minutes": tournament.waitlist_offer_minutes,
        "max_participants": tournament.max_participants or "",
        "changeover_minutes": tournament.changeover_minutes,
        "points_first": "10",
        "points_second": "7",
        "points_third": "5",
        "participation_points": "0",
        "ties_allowed": "on",
        "tie_scoring": "shared",
        "tie_break_1": "score",
        "allows_typed_names": "on",
        "tournamentlocation_set-TOTAL_FORMS": "0",
        "tournamentlocation_set-INITIAL_FORMS": "0",
        "time_blocks-TOTAL_FORMS": "0",
        "time_blocks-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


class TestTournamentList:
    def test_it_shows_status_dates_and_fill_rate(self, organizer_client):
        slot = SlotFactory(capacity=4)
        register(slot)
        register(slot)

        response = organizer_client.get(changelist_url(Tournament))

        assert response.status_code == 200
        page = response.content.decode()
        assert slot.tournament.name in page
        assert "Published" in page
        assert "2 / 4 (50%)" in page
        assert '<progress max="4" value="2">' in page

    def test_quick_filters_by_status_category_and_upcoming(self, organizer_client):
        soon = TournamentFactory(name="Soon Cup", category=Tournament.Category.DANCE)
        past = TournamentFactory(
            name="Old Cup",
            starts_on=timezone.localdate() - timedelta(days=30),
            ends_on=timezone.localdate() - timedelta(days=29),
        )
        draft = TournamentFactory(name="Draft Cup", status=Tournament.Status.DRAFT)
        url = changelist_url(Tournament)

        upcoming = organizer_client.get(url, {"when": "upcoming"}).content.decode()
        drafts = organizer_client.get(url, {"status__exact": "draft"}).content.decode()
        dance = organizer_client.get(url, {"category__exact": "dance"}).content.decode()

        assert soon.name in upcoming and past.name not in upcoming
        assert draft.name in drafts and soon.name not in drafts
        assert soon.name in dance and draft.name not in dance

    @pytest.mark.parametrize("size", [3, 30])
    def test_it_runs_a_fixed_number_of_queries(
        self, organizer_client, django_assert_max_num_queries, size
    ):
        for _ in range(size):
            slot = SlotFactory(capacity=3)
            register(slot)
        with django_assert_max_num_queries(12):
            response = organizer_client.get(changelist_url(Tournament))
        assert response.status_code == 200


class TestTournamentActions:
    def test_publish_and_close_change_status_and_audit(self, organizer_client, organizer):
        draft = TournamentFactory(status=Tournament.Status.DRAFT)
        published = TournamentFactory()

        response = post_action(organizer_client, Tournament, "publish", [draft, published])

        draft.refresh_from_db()
        assert draft.status == Tournament.Status.PUBLISHED
        assert "1 tournament published." in messages_of(response)
        assert "1 tournament already published." in messages_of(response)
        event = events("tournament.published", draft).get()
        assert event.actor == f"admin:{organizer.username}"

        response = post_action(organizer_client, Tournament, "close", [draft])
        draft.refresh_from_db()
        assert draft.status == Tournament.Status.CLOSED
        assert "1 tournament closed to new sign-ups." in messages_of(response)

    def test_publishing_a_cancelled_tournament_is_refused_with_a_message(self, organizer_client):
        cancelled = TournamentFactory(status=Tournament.Status.CANCELLED)

        response = post_action(organizer_client, Tournament, "publish", [cancelled])

        cancelled.refresh_from_db()
        assert cancelled.status == Tournament.Status.CANCELLED
        assert any("cannot be published" in m for m in messages_of(response))

    def test_cancel_asks_first_then_cancels_slots_and_registrations(self, organizer_client):
        slot = SlotFactory(capacity=3)
        first, second = register(slot), register(slot)
        tournament = slot.tournament

        page = post_action(organizer_client, Tournament, "cancel", [tournament])

        assert "2 places taken" in page.content.decode()
        assert "cannot be undone" in page.content.decode()
        assert Registration.objects.filter(status=Registration.Status.CANCELLED).count() == 0

        response = post_action(
            organizer_client, Tournament, "cancel", [tournament], confirm=True, reason="Flooded"
        )

        tournament.refresh_from_db()
        slot.refresh_from_db()
        assert tournament.status == Tournament.Status.CANCELLED
        assert slot.status == Slot.Status.CANCELLED and slot.reserved_count == 0
        for registration in (first, second):
            registration.refresh_from_db()
            assert registration.status == Registration.Status.CANCELLED
            assert registration.cancel_reason == "Flooded"
        assert "1 tournament cancelled." in messages_of(response)
        assert any("2 registrations cancelled" in m for m in messages_of(response))
        assert events("tournament.cancelled", tournament).get().payload["reason"] == "Flooded"

    def test_duplicate_makes_a_draft_with_rooms_blocks_and_empty_slots(self, organizer_client):
        block = TimeBlockFactory(slot_minutes=20, slot_capacity=2)
        services.time_block_generate_slots(time_block=block, actor="org")
        register(Slot.objects.filter(time_block=block).first())

        response = post_action(organizer_client, Tournament, "duplicate", [block.tournament])

        copy = Tournament.objects.exclude(pk=block.tournament.pk).get()
        assert response.redirect_chain[-1][0] == change_url(copy)
        assert copy.status == Tournament.Status.DRAFT
        assert copy.name == f"{block.tournament.name} (copy)"
        assert TournamentLocation.objects.filter(tournament=copy).count() == 1
        assert copy.time_blocks.count() == 1
        assert list(copy.slots.values_list("reserved_count", "capacity")) == [(0, 2)] * 3
        assert not copy.registrations.exists()
        assert events("tournament.duplicate", copy).exists()


class TestTournamentEdit:
    def test_a_cap_below_the_places_taken_is_refused_with_a_clear_message(self, organizer_client):
        slot = SlotFactory(capacity=5)
        for _ in range(3):
            register(slot)
        tournament = slot.tournament

        response = organizer_client.post(
            change_url(tournament), tournament_form(tournament, max_participants="2")
        )

        assert response.status_code == 200
        assert "3 participants are already signed up; the limit cannot go below 3" in (
            response.content.decode()
        )
        tournament.refresh_from_db()
        assert tournament.max_participants is None

    def test_a_valid_cap_goes_through_the_service_and_is_audited(self, organizer_client):
        tournament = TournamentFactory()

        response = organizer_client.post(
            change_url(tournament), tournament_form(tournament, max_participants="40")
        )

        assert response.status_code == 302
        tournament.refresh_from_db()
        assert tournament.max_participants == 40
        assert events("tournament.set_max_participants", tournament).get().payload["after"] == 40

    def test_version_and_status_are_read_only(self, organizer_client):
        tournament = TournamentFactory()

        organizer_client.post(
            change_url(tournament),
            tournament_form(tournament, version="99", status="cancelled", name="Renamed"),
        )

        tournament.refresh_from_db()
        assert tournament.name == "Renamed"
        assert tournament.status == Tournament.Status.PUBLISHED
        assert tournament.version == 2  # bumped once by the update, not set from the form

    def test_time_blocks_and_rooms_are_added_inline_through_the_services(self, organizer_client):
        tournament = TournamentFactory()
        room = LocationFactory()
        day = timezone.localtime() + timedelta(days=3)
        data = tournament_form(
            tournament,
            **{
                "tournamentlocation_set-TOTAL_FORMS": "1",
                "tournamentlocation_set-0-location": str(room.pk),
                "time_blocks-TOTAL_FORMS": "1",
                "time_blocks-0-location": str(room.pk),
                "time_blocks-0-starts_at_0": f"{day:%Y-%m-%d}",
                "time_blocks-0-starts_at_1": "09:00:00",
                "time_blocks-0-ends_at_0": f"{day:%Y-%m-%d}",
                "time_blocks-0-ends_at_1": "10:00:00",
                "time_blocks-0-slot_minutes": "15",
                "time_blocks-0-slot_capacity": "2",
            },
        )

        response = organizer_client.post(change_url(tournament), data)

        assert response.status_code == 302, response.context["errors"]
        block = TimeBlock.objects.get(tournament=tournament)
        assert block.location == room and block.slot_minutes == 15
        assert events("time_block.create", block).exists()

    def test_an_inline_block_without_a_slot_length_gets_a_plain_message(self, organizer_client):
        tournament = TournamentFactory()
        room = LocationFactory()
        day = timezone.localtime() + timedelta(days=3)
        data = tournament_form(
            tournament,
            **{
                "time_blocks-TOTAL_FORMS": "1",
                "time_blocks-0-location": str(room.pk),
                "time_blocks-0-starts_at_0": f"{day:%Y-%m-%d}",
                "time_blocks-0-starts_at_1": "09:00:00",
                "time_blocks-0-ends_at_0": f"{day:%Y-%m-%d}",
                "time_blocks-0-ends_at_1": "10:00:00",
                "time_blocks-0-slot_capacity": "1",
            },
        )

        response = organizer_client.post(change_url(tournament), data)

        assert response.status_code == 200
        assert "Give the length of each slot" in response.content.decode()
        assert not TimeBlock.objects.filter(tournament=tournament).exists()

    def test_adding_a_tournament_starts_it_as_an_audited_draft(self, organizer_client):
        data = tournament_form(
            Tournament(name="Choir Day", slug="choir-day", category="music"),
            status="published",
        )

        response = organizer_client.post(add_url(Tournament), data)

        assert response.status_code == 302
        tournament = Tournament.objects.get(slug="choir-day")
        assert tournament.status == Tournament.Status.DRAFT
        assert events("tournament.create", tournament).exists()

    def test_the_tournament_page_links_schedule_run_sheet_export_and_history(
        self, organizer_client
    ):
        tournament = TournamentFactory()

        page = organizer_client.get(change_url(tournament)).content.decode()

        for name in ("schedule", "run_sheet", "schedule_csv"):
            assert reverse(f"admin:tournaments_tournament_{name}", args=[tournament.pk]) in page
        assert f"tournament__id__exact={tournament.pk}" in page


@pytest.mark.parametrize("size", [3, 30])
def test_the_room_list_runs_a_fixed_number_of_queries(
    organizer_client, django_assert_max_num_queries, size
):
    for _ in range(size):
        SlotFactory()  # a room used by a tournament
    with django_assert_max_num_queries(10):
        response = organizer_client.get(changelist_url(Location))
    assert len(response.context["cl"].result_list) == size


def test_actions_that_cancel_or_book_entries_need_the_registration_permissions(client):
    from django.contrib.auth.models import Permission, User

    clerk = User.objects.create_user("clerk", password="a-long-clerk-password", is_staff=True)
    clerk.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_tournament", "change_tournament", "view_slot", "change_slot"]
        )
    )
    client.force_login(clerk)

    tournaments = client.get(reverse("admin:tournaments_tournament_changelist"))
    slots = client.get(reverse("admin:tournaments_slot_changelist"))

    def actions(response):
        return set(dict(response.context["action_form"].fields["action"].choices))

    assert {"publish", "close"} <= actions(tournaments)
    assert "cancel" not in actions(tournaments)
    assert "block" in actions(slots)
    assert "cancel" not in actions(slots)


def test_deleting_a_tournament_keeps_its_record_and_needs_it_empty(admin_client):
    busy = SlotFactory()
    register(busy, ParticipantFactory())
    empty = TournamentFactory()

    refused = admin_client.post(
        reverse("admin:tournaments_tournament_delete", args=[busy.tournament_id]),
        {"post": "yes"},
        follow=True,
    )
    # Refused before anything is confirmed, in words of a refusal.
    assert "cannot be deleted yet: people are still signed up" in refused.content.decode()
    busy.tournament.refresh_from_db()
    assert busy.tournament.deleted_at is None

    admin_client.post(
        reverse("admin:tournaments_tournament_delete", args=[empty.pk]), {"post": "yes"}
    )
    empty.refresh_from_db()
    assert empty.deleted_at is not None
    assert events("tournament.delete", empty).count() == 1
    listed = admin_client.get(reverse("admin:tournaments_tournament_changelist"))
    assert empty not in listed.context["cl"].result_list
    assert busy.tournament in listed.context["cl"].result_list
