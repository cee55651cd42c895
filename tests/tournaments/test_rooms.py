"""Rooms and the rooms a tournament uses: one write path (the services) for the admin and the
schedule import, each change in the audit trail."""

import pytest

from common.models import AuditEvent
from tests.admin_client import add_url, change_url
from tests.factories import LocationFactory, TournamentFactory
from tests.tournaments.test_admin import tournament_form
from tournaments import services
from tournaments.models import Location, TournamentLocation

pytestmark = pytest.mark.django_db


def events(action):
    return AuditEvent.objects.filter(action=action)


class TestServices:
    def test_a_room_created_through_the_service_is_audited(self):
        room = services.location_create(actor="t", name="Hall A", building="Sports Centre")

        event = events("location.create").get()
        assert (event.actor, event.target_id, event.payload["name"]) == (
            "t",
            room.pk,
            "Hall A (Sports Centre)",
        )

    def test_an_update_saves_and_audits_only_what_changed(self):
        room = LocationFactory(name="Hall A", capacity=40)

        saved = services.location_update(location=room, actor="t", name="Hall A", capacity=60)

        assert Location.objects.get(pk=room.pk).capacity == saved.capacity == 60
        assert events("location.update").get().payload["changed"] == ["capacity"]

    def test_an_update_that_changes_nothing_writes_nothing(self):
        room = LocationFactory(capacity=40)

        services.location_update(location=room, actor="t", capacity=40)

        assert not events("location.update").exists()

    def test_a_room_is_listed_for_a_tournament_once(self):
        tournament, room = TournamentFactory(), LocationFactory()

        first = services.tournament_location_add(tournament=tournament, location=room, actor="t")
        again = services.tournament_location_add(tournament=tournament, location=room, actor="t")

        assert (first, again) == (True, False)
        assert TournamentLocation.objects.filter(tournament=tournament).count() == 1
        event = events("tournament.add_room").get()
        assert (event.tournament_id, event.payload["location"]) == (tournament.pk, str(room))

    def test_a_room_taken_off_a_tournament_is_audited(self):
        tournament, room = TournamentFactory(), LocationFactory()
        services.tournament_location_add(tournament=tournament, location=room, actor="t")

        removed = services.tournament_location_remove(
            tournament=tournament, location=room, actor="t"
        )

        assert removed
        assert not TournamentLocation.objects.filter(tournament=tournament).exists()
        assert events("tournament.remove_room").count() == 1


class TestAdmin:
    def test_a_room_added_in_the_admin_goes_through_the_service(self, organizer_client):
        response = organizer_client.post(
            add_url(Location), {"name": "Studio B", "building": "Arts Centre", "notes": ""}
        )

        assert response.status_code == 302
        room = Location.objects.get(name="Studio B")
        assert events("location.create").get().target_id == room.pk

    def test_a_room_edited_in_the_admin_goes_through_the_service(self, organizer_client):
        room = LocationFactory(name="Studio B", building="Arts Centre")

        response = organizer_client.post(
            change_url(room),
            {"name": "Studio B", "building": "Arts Centre", "capacity": "30", "notes": ""},
        )

        assert response.status_code == 302
        assert Location.objects.get(pk=room.pk).capacity == 30
        assert events("location.update").get().payload["changed"] == ["capacity"]

    def test_the_rooms_inline_links_and_unlinks_through_the_services(self, organizer_client):
        tournament, hall, studio = TournamentFactory(), LocationFactory(), LocationFactory()
        services.tournament_location_add(tournament=tournament, location=hall, actor="t")
        link = TournamentLocation.objects.get(tournament=tournament)
        data = tournament_form(
            tournament,
            **{
                "tournamentlocation_set-TOTAL_FORMS": "2",
                "tournamentlocation_set-INITIAL_FORMS": "1",
                "tournamentlocation_set-0-id": str(link.pk),
                "tournamentlocation_set-0-tournament": str(tournament.pk),
                "tournamentlocation_set-0-location": str(hall.pk),
                "tournamentlocation_set-0-DELETE": "on",
                "tournamentlocation_set-1-tournament": str(tournament.pk),
                "tournamentlocation_set-1-location": str(studio.pk),
            },
        )

        response = organizer_client.post(change_url(tournament), data)

        assert response.status_code == 302, response.context["errors"]
        assert list(tournament.locations.all()) == [studio]
        assert events("tournament.remove_room").count() == 1
        assert events("tournament.add_room").count() == 2  # the setup's, then the inline's
