"""The schedule back office, driven through the admin as a member of the Organizers group."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
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
from tournaments import services
from tournaments.models import Location, Slot, TimeBlock, Tournament, TournamentLocation

pytestmark = pytest.mark.django_db


def register(slot, participant=None, **kwargs):
    return engine.registration_create(
        tournament=slot.tournament,
        slot_id=slot.pk,
        participant=participant or ParticipantFactory(),
        actor="public",
        **kwargs,
    )


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
        "max_participants": tournament.max_participants or "",
        "changeover_minutes": tournament.changeover_minutes,
        "rules": '{"points": {"first": 10, "second": 7, "third": 5}}',
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
        assert "3 participant(s) are already signed up; the limit cannot go below 3" in (
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

        assert "6 slot(s) of 10 min, 2 place(s) each: 6 to create" in preview.content.decode()
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

        assert "Refused" in preview.content.decode()
        assert any("hold registrations" in m for m in messages_of(response))
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
        assert "protected related objects" in page
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
        assert "2 place(s) are already taken in this slot" in response.content.decode()
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
            raise services.CapacityBelowRegistrations("3 place(s) are already taken.")

        monkeypatch.setattr(services, "slot_set_capacity", refuse)
        response = organizer_client.post(change_url(slot), {"capacity": "2"}, follow=True)

        assert response.status_code == 200
        assert "Nothing was saved: 3 place(s) are already taken." in messages_of(response)

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
        assert "slot.block" in page
        assert "admin:olga" in page

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
    assert "still has registrations: cancel it first" in refused.content.decode()
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
