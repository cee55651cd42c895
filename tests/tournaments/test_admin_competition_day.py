"""The back office on competition day, as an Organizers member: saving a time block and
generating its slots in one trip, a slot length generation would refuse refused on save, the
schedule's summary in words."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from registrations.models import Registration
from tests.admin_client import add_url, change_url, messages_of
from tests.factories import (
    LocationFactory,
    ParticipantFactory,
    SlotFactory,
    TimeBlockFactory,
    TournamentFactory,
)
from tests.tournaments.test_admin import events, register, tournament_form
from tournaments import services
from tournaments.models import Slot, TimeBlock, Tournament

pytestmark = pytest.mark.django_db


def block_data(block=None, **changes):
    day = timezone.localtime(block.starts_at) if block else timezone.localtime() + timedelta(days=3)
    ends = timezone.localtime(block.ends_at) if block else day + timedelta(hours=1)
    data = {
        "location": str(block.location_id) if block else str(LocationFactory().pk),
        "starts_at_0": f"{day:%Y-%m-%d}",
        "starts_at_1": f"{day:%H:%M:%S}" if block else "14:00:00",
        "ends_at_0": f"{ends:%Y-%m-%d}",
        "ends_at_1": f"{ends:%H:%M:%S}" if block else "15:00:00",
        "slot_minutes": str(block.slot_minutes) if block else "30",
        "slot_capacity": str(block.slot_capacity) if block else "1",
        "notes": "",
    }
    data.update(changes)
    return data


class TestSaveAndGenerate:
    def test_a_new_block_is_saved_and_its_slots_made_in_one_trip(self, organizer_client):
        tournament = TournamentFactory()

        response = organizer_client.post(
            add_url(TimeBlock),
            {"tournament": str(tournament.pk), **block_data(), "_generate": "1"},
            follow=True,
        )

        block = TimeBlock.objects.get(tournament=tournament)
        assert Slot.objects.filter(time_block=block).count() == 2
        assert any("2 created" in m for m in messages_of(response))
        assert response.redirect_chain[-1][0] == change_url(block)
        assert events("time_block.generate_slots", block).count() == 1

    def test_the_button_is_on_the_block_page(self, organizer_client):
        block = TimeBlockFactory()

        page = organizer_client.get(change_url(block)).content.decode()

        assert 'name="_generate"' in page
        assert "Save and generate slots" in page

    def test_a_changed_length_is_saved_and_the_slots_follow(self, organizer_client):
        block = TimeBlockFactory(slot_minutes=10)
        services.time_block_generate_slots(time_block=block, actor="org")

        response = organizer_client.post(
            change_url(block), block_data(block, slot_minutes="20", _generate="1"), follow=True
        )

        assert response.status_code == 200
        live = Slot.objects.filter(time_block=block).exclude(status=Slot.Status.CANCELLED)
        assert sorted({(s.ends_at - s.starts_at).seconds for s in live}) == [1200]
        assert live.count() == 3

    def test_a_length_that_would_drop_a_booked_slot_is_refused_on_save(self, organizer_client):
        block = TimeBlockFactory(slot_minutes=10)
        services.time_block_generate_slots(time_block=block, actor="org")
        last = Slot.objects.filter(time_block=block).order_by("starts_at").last()
        registration = register(last)

        response = organizer_client.post(change_url(block), block_data(block, slot_minutes="20"))

        assert response.status_code == 200  # the form again, with the error
        errors = response.context["adminform"].form.errors
        assert "the slot at " in " ".join(errors["slot_minutes"])
        assert "holds registrations" in " ".join(errors["slot_minutes"])
        block.refresh_from_db()
        assert block.slot_minutes == 10
        registration.refresh_from_db()
        assert registration.status == Registration.Status.CONFIRMED

    def test_fewer_places_than_a_slot_holds_is_refused_on_the_places(self, organizer_client):
        block = TimeBlockFactory(slot_minutes=10, slot_capacity=2)
        services.time_block_generate_slots(time_block=block, actor="org")
        first = Slot.objects.filter(time_block=block).order_by("starts_at").first()
        register(first)
        register(first)

        response = organizer_client.post(change_url(block), block_data(block, slot_capacity="1"))

        errors = response.context["adminform"].form.errors
        assert "holds registrations" in " ".join(errors["slot_capacity"])
        block.refresh_from_db()
        assert block.slot_capacity == 2

    def test_a_change_that_keeps_the_booked_slots_is_saved(self, organizer_client):
        block = TimeBlockFactory(slot_minutes=10)
        services.time_block_generate_slots(time_block=block, actor="org")
        register(Slot.objects.filter(time_block=block).order_by("starts_at").first())

        response = organizer_client.post(
            change_url(block), block_data(block, notes="Bring music stands")
        )

        assert response.status_code == 302
        block.refresh_from_db()
        assert block.notes == "Bring music stands"

    def test_blocks_added_inline_on_the_tournament_page_get_their_slots_in_one_trip(
        self, organizer_client
    ):
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
                "_generate": "1",
            },
        )

        response = organizer_client.post(change_url(tournament), data, follow=True)

        assert Slot.objects.filter(tournament=tournament).count() == 4
        assert any("4 created" in m for m in messages_of(response))
        assert response.redirect_chain[-1][0] == change_url(tournament)
        assert 'name="_generate"' in response.content.decode()


class TestScheduleSummary:
    def test_it_reads_as_words(self, organizer_client):
        block = TimeBlockFactory(slot_minutes=20, slot_capacity=1)
        services.time_block_generate_slots(time_block=block, actor="org")
        slots = list(Slot.objects.filter(time_block=block).order_by("starts_at"))
        register(slots[0])
        register(slots[1])
        url = reverse("admin:tournaments_tournament_schedule", args=[block.tournament_id])

        response = organizer_client.get(
            url, {"day": f"{timezone.localtime(block.starts_at):%Y-%m-%d}"}
        )

        summary = " ".join(response.context["summary"].split())
        assert summary == "3 slots this day. 2 of 3 places are taken, 1 is free. 2 slots are full."
        assert "·" not in response.content.decode().split('class="lineup-totals"')[1][:200]


def venue_url(day):
    return reverse("admin:tournaments_venue_day") + f"?day={day:%Y-%m-%d}"


@pytest.fixture
def festival():
    """Two tournaments sharing the Main Room, a third next door, and their problems: the
    Main Room booked twice, a changeover too short, one person in two places."""
    main, side = LocationFactory(name="Main Room"), LocationFactory(name="Side Room")
    piano = TournamentFactory(name="Piano", changeover_minutes=10)
    violin = TournamentFactory(name="Violin")
    choir = TournamentFactory(name="Choir")
    nine = timezone.localtime() + timedelta(days=2)
    nine = nine.replace(hour=9, minute=0, second=0, microsecond=0)
    piano_slot = SlotFactory(
        time_block__tournament=piano, time_block__location=main, starts_at=nine, capacity=2
    )
    violin_early = SlotFactory(
        time_block__tournament=violin,
        time_block__location=main,
        starts_at=nine + timedelta(minutes=5),
        capacity=1,
    )
    violin_late = SlotFactory(
        time_block__tournament=violin,
        time_block__location=main,
        starts_at=nine + timedelta(minutes=30),
        capacity=1,
    )
    choir_slot = SlotFactory(
        time_block__tournament=choir,
        time_block__location=side,
        starts_at=nine + timedelta(hours=2),
        capacity=3,
    )
    ana = ParticipantFactory(first_name="Ana", last_name="Bell")
    register(piano_slot, ana)
    register(choir_slot, ana)
    # A move made by hand (SQL) puts the choir at nine, when Ana plays the piano.
    Slot.objects.filter(pk=choir_slot.pk).update(
        starts_at=nine, ends_at=nine + timedelta(minutes=10)
    )
    return {
        "day": nine.date(),
        "piano": piano_slot,
        "violin_early": violin_early,
        "violin_late": violin_late,
        "choir": choir_slot,
    }


class TestVenueDayGrid:
    def test_every_room_and_tournament_with_who_is_where_and_free_places(
        self, organizer_client, festival
    ):
        response = organizer_client.get(venue_url(festival["day"]))

        assert response.status_code == 200
        grid = response.context["grid"]
        assert [room.name for room in grid.rooms] == ["Main Room", "Side Room"]
        assert [t.name for t in grid.tournaments] == ["Choir", "Piano", "Violin"]
        nine = grid.rows[0]
        assert nine.time == "09:00"
        (piano,), (choir,) = nine.cells
        assert (piano.slot.tournament.name, choir.slot.tournament.name) == ("Piano", "Choir")
        assert [e.entrant_name for e in piano.entries] == ["Ana Bell"]
        page = response.content.decode()
        assert "1 of 2 free" in page

    def test_clashes_and_changeovers_are_flagged_in_words(self, organizer_client, festival):
        response = organizer_client.get(venue_url(festival["day"]))

        problems = {p.kind: p.text for p in response.context["grid"].problems}
        assert set(problems) == {"room", "person"}
        assert problems["room"] == (
            "Main Room is booked twice: Piano 09:00-09:10 and Violin 09:05-09:15."
        )
        assert problems["person"].startswith("Ana Bell is in ")
        assert problems["person"].endswith("at the same time.")
        page = response.content.decode()
        assert "Room booked twice:" in page
        assert "Person in two places:" in page

    def test_a_changeover_too_short_between_two_tournaments_is_flagged(self, organizer_client):
        room = LocationFactory(name="Hall")
        piano = TournamentFactory(name="Piano", changeover_minutes=15)
        violin = TournamentFactory(name="Violin")
        nine = (timezone.localtime() + timedelta(days=2)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        SlotFactory(time_block__tournament=piano, time_block__location=room, starts_at=nine)
        SlotFactory(
            time_block__tournament=violin,
            time_block__location=room,
            starts_at=nine + timedelta(minutes=15),
        )

        response = organizer_client.get(venue_url(nine.date()))

        (problem,) = response.context["grid"].problems
        assert problem.text == (
            "Hall: 5 min between Piano (ends 09:10) and Violin (starts 09:15); "
            "the changeover needs 15."
        )

    def test_a_draft_tournament_is_shown_and_marked_as_not_public(self, organizer_client):
        draft = SlotFactory(time_block__tournament__name="Harp", capacity=2)
        draft.tournament.status = Tournament.Status.DRAFT
        draft.tournament.save(update_fields=["status"])
        public = SlotFactory(time_block__tournament__name="Oboe", starts_at=draft.starts_at)

        response = organizer_client.get(venue_url(timezone.localtime(draft.starts_at).date()))

        page = response.content.decode()
        assert "Harp</a> (draft)" in page
        assert "Oboe</a> (draft)" not in page
        assert page.count("Draft: not public yet") == 1
        assert {
            c.slot for row in response.context["grid"].rows for cell in row.cells for c in cell
        } == {
            draft,
            public,
        }

    def test_a_day_without_problems_says_so(self, organizer_client):
        slot = SlotFactory()

        response = organizer_client.get(venue_url(timezone.localtime(slot.starts_at).date()))

        assert response.context["grid"].problems == []
        assert "No clashes" in response.content.decode()

    def test_an_empty_day_says_so_and_a_bad_day_is_not_a_500(self, organizer_client):
        response = organizer_client.get(reverse("admin:tournaments_venue_day") + "?day=2-30-x")

        assert response.status_code == 200
        assert "No slots on" in response.content.decode()

    def test_it_is_printable_and_linked_from_the_tournament_list(self, organizer_client):
        listing = organizer_client.get(reverse("admin:tournaments_tournament_changelist"))

        assert reverse("admin:tournaments_venue_day").encode() in listing.content
        css = (settings.BASE_DIR / "static/lineup_admin/admin.css").read_text()
        assert "@media print" in css and ".lineup-venue-page #header" in css

    def test_volunteers_cannot_see_it(self, volunteer_client, festival):
        response = volunteer_client.get(venue_url(festival["day"]))

        assert response.status_code == 403
        assert b"Ana Bell" not in response.content

    def test_it_takes_a_fixed_number_of_queries(
        self, organizer_client, festival, django_assert_max_num_queries
    ):
        for _ in range(2):
            register(festival["choir"])
        with django_assert_max_num_queries(20):
            organizer_client.get(venue_url(festival["day"]))
