"""The schedule import, with the real files in tests/data/."""

import io
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from common.models import AuditEvent
from common.tabular import ImportFileError
from registrations import services as registrations
from registrations.importing import SCHEDULE_WRITES
from tests.factories import (
    LocationFactory,
    ParticipantFactory,
    TimeBlockFactory,
    TournamentFactory,
)
from tournaments.importing import ScheduleImportInvalid, schedule_import
from tournaments.models import Location, Slot, TimeBlock, Tournament, TournamentLocation
from tournaments.selectors import tournament_get_public

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"


def run(path, **kwargs):
    # As the command runs it: the cap's service comes from the layer that knows registrations.
    kwargs.setdefault("actor", "test")
    kwargs.setdefault("writes", SCHEDULE_WRITES)
    return schedule_import(source=path, **kwargs)


def run_json(data, **kwargs):
    return run(io.BytesIO(json.dumps(data).encode()), name="s.json", **kwargs)


def local(text):
    return timezone.make_aware(datetime.fromisoformat(text))


def snapshot():
    return (
        list(Tournament.objects.order_by("pk").values()),
        list(Location.objects.order_by("pk").values()),
        list(TimeBlock.objects.order_by("pk").values()),
        list(Slot.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


EMPTY = ([], [], [], [], 0)


class TestJson:
    def test_it_creates_tournaments_rooms_and_time_blocks(self):
        result = run(DATA / "schedule.json")

        assert result.summary() == ("Created 2 tournaments, 2 rooms, 3 time blocks; 0 unchanged.")
        piano = Tournament.objects.get(slug="piano-junior")
        assert (piano.category, piano.status, piano.max_participants, piano.hold_minutes) == (
            "music",
            "published",
            40,
            30,
        )
        assert piano.registration_opens_at == local("2030-05-01 09:00")
        assert (piano.starts_on, piano.ends_on) == (date(2030, 6, 14), date(2030, 6, 15))
        dance = Tournament.objects.get(slug="street-dance")
        assert (dance.category, dance.entry_kind) == ("dance", "team")  # "Dance" is the label
        studio = Location.objects.get(name="Studio B")
        assert (studio.building, studio.capacity, studio.notes) == (
            "Arts Centre",
            30,
            "Sprung floor",
        )
        block = TimeBlock.objects.get(tournament=dance)
        assert (block.starts_at, block.slot_minutes, block.slot_capacity) == (
            local("2030-06-14 14:00"),
            15,
            6,
        )
        assert TournamentLocation.objects.filter(tournament=dance, location=studio).exists()
        actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert actions == {"tournament.create", "location.create", "time_block.create"}
        assert not Slot.objects.exists()

    def test_generate_slots_makes_the_slots_through_the_service(self):
        result = run(DATA / "schedule.json", generate_slots=True)

        assert result.slots_created == 6 + 3 + 4
        assert Slot.objects.filter(tournament__slug="street-dance", capacity=6).count() == 4
        assert AuditEvent.objects.filter(action="time_block.generate_slots").count() == 3

    def test_a_reimport_changes_nothing(self):
        run(DATA / "schedule.json", generate_slots=True)
        before = snapshot()

        result = run(DATA / "schedule.json", generate_slots=True)

        assert result.summary() == "7 unchanged."
        assert snapshot() == before

    def test_a_dry_run_reports_everything_and_writes_nothing(self):
        result = run(DATA / "schedule.json", dry_run=True, generate_slots=True)

        assert result.summary() == (
            "Would create 2 tournaments, 2 rooms, 3 time blocks; 0 unchanged; "
            "would generate 13 slots."
        )
        assert snapshot() == EMPTY

    def test_a_longer_block_is_updated_and_gets_its_new_slots(self):
        run(DATA / "schedule.json", generate_slots=True)
        data = json.loads((DATA / "schedule.json").read_text())
        data["time_blocks"][1]["ends_at"] = "2030-06-15 10:00"

        result = run_json(data, generate_slots=True)

        assert result.counts[("time_block", "update")] == 1
        assert result.slots_created == 3
        event = AuditEvent.objects.get(action="time_block.update")
        assert event.payload["changed"] == ["ends_at"]

    def test_a_change_that_would_drop_a_booked_slot_is_refused_and_nothing_is_written(self):
        run(DATA / "schedule.json", generate_slots=True)
        last = Slot.objects.filter(tournament__slug="piano-junior").order_by("starts_at").last()
        registrations.registration_create(
            tournament=last.tournament,
            slot_id=last.pk,
            participant=ParticipantFactory(),
            actor="t",
            override_reason="before sign-up opens",
        )
        data = json.loads((DATA / "schedule.json").read_text())
        data["time_blocks"][1]["ends_at"] = "2030-06-15 09:20"
        data["locations"][0]["capacity"] = 90  # another change in the same file
        before = snapshot()

        with pytest.raises(ScheduleImportInvalid) as caught:
            run_json(data, generate_slots=True)

        assert caught.value.result.errors == [
            "time_blocks #2: 1 slot of this time block holds registrations that the new layout "
            "has no room for. Move or cancel them first, or force the change."
        ]
        assert snapshot() == before

    def test_a_participant_cap_below_the_registrations_is_refused(self):
        run(DATA / "schedule.json")
        piano = Tournament.objects.get(slug="piano-junior")
        Tournament.objects.filter(pk=piano.pk).update(
            registration_opens_at=None, registration_closes_at=None
        )
        for _ in range(2):
            registrations.registration_create(
                tournament=piano, participant=ParticipantFactory(), actor="t"
            )

        with pytest.raises(ScheduleImportInvalid) as caught:
            run_json({"tournaments": [{"slug": "piano-junior", "max_participants": 1}]})

        assert "2 participants are already signed up" in caught.value.result.errors[0]
        assert Tournament.objects.get(slug="piano-junior").max_participants == 40

    def test_a_cap_change_goes_through_the_service(self):
        run(DATA / "schedule.json")

        result = run_json({"tournaments": [{"slug": "piano-junior", "max_participants": 50}]})

        assert result.counts[("tournament", "update")] == 1
        assert Tournament.objects.get(slug="piano-junior").max_participants == 50
        assert AuditEvent.objects.filter(action="tournament.set_max_participants").count() == 1

    def test_a_renamed_tournament_shows_on_public_pages_at_once(
        self, django_capture_on_commit_callbacks
    ):
        run(DATA / "schedule.json")
        assert tournament_get_public(slug="piano-junior").name == "Piano Solo (junior)"

        with django_capture_on_commit_callbacks(execute=True):
            run_json({"tournaments": [{"slug": "piano-junior", "name": "Piano Juniors"}]})

        assert tournament_get_public(slug="piano-junior").name == "Piano Juniors"

    def test_a_team_event_with_registrations_cannot_become_individual(self):
        tournament = TournamentFactory(slug="relay", team_event=True)
        registrations.registration_create(
            tournament=tournament, entrant_name="The Quick", members=["A", "B"], actor="t"
        )

        with pytest.raises(ScheduleImportInvalid, match="1 problem"):
            run_json({"tournaments": [{"slug": "relay", "entry_kind": "individual"}]})

    def test_invalid_json_names_its_line(self, tmp_path):
        path = tmp_path / "s.json"
        path.write_text('{\n  "tournaments": [\n    {"slug": "x",}\n  ]\n}\n')

        with pytest.raises(ImportFileError, match="Line 3: this is not valid JSON"):
            run(path)

    def test_unknown_fields_and_bad_values_are_reported_per_item(self):
        data = {
            "tournaments": [{"slug": "x", "name": "X", "max_participant": 5}],
            "locations": [{"name": "Hall", "capacity": "lots"}],
        }

        with pytest.raises(ScheduleImportInvalid) as caught:
            run_json(data)

        errors = caught.value.result.errors
        assert errors[0].startswith("tournaments #1: unknown field “max_participant”")
        assert errors[1] == "locations #1: capacity “lots” is not a whole number"
        assert snapshot() == EMPTY

    def test_model_rules_are_checked_too(self):
        data = {
            "tournaments": [
                {
                    "slug": "not a slug!",
                    "name": "X",
                    "registration_opens_at": "2030-05-02 09:00",
                    "registration_closes_at": "2030-05-01 09:00",
                }
            ]
        }

        with pytest.raises(ScheduleImportInvalid) as caught:
            run_json(data)

        assert caught.value.result.errors == [
            "tournaments #1: slug: Enter a valid “slug” consisting of letters, numbers, "
            "underscores or hyphens.",
            "tournaments #1: registration must close after it opens",
        ]

    def test_an_import_does_not_change_a_tournaments_status(self):
        run(DATA / "schedule.json")
        piano = Tournament.objects.get(slug="piano-junior")
        version = piano.version

        with pytest.raises(ScheduleImportInvalid) as caught:
            run_json({"tournaments": [{"slug": "piano-junior", "status": "cancelled"}]})

        (error,) = caught.value.result.errors
        assert "publish, close or cancel actions" in error
        piano.refresh_from_db()
        assert (piano.status, piano.version) == ("published", version)

    def test_an_update_bumps_the_tournament_version(self):
        run(DATA / "schedule.json")
        piano = Tournament.objects.get(slug="piano-junior")

        run_json({"tournaments": [{"slug": "piano-junior", "description": "New words"}]})

        updated = Tournament.objects.get(pk=piano.pk)
        assert (updated.description, updated.version) == ("New words", piano.version + 1)


class TestThroughTheServices:
    """Every write of an import goes through the services the admin uses."""

    def test_a_tournament_update_bumps_its_version_under_the_service(self):
        run(DATA / "schedule.json")
        piano = Tournament.objects.get(slug="piano-junior")

        run_json({"tournaments": [{"slug": "piano-junior", "hold_minutes": 45}]})

        assert Tournament.objects.get(pk=piano.pk).version == piano.version + 1
        event = AuditEvent.objects.get(action="tournament.update")
        assert (event.tournament_id, event.payload["changed"]) == (piano.pk, ["hold_minutes"])

    def test_a_new_tournament_is_created_with_its_status_and_name_audited(self):
        run(DATA / "schedule.json")

        event = AuditEvent.objects.get(action="tournament.create", tournament__slug="piano-junior")
        assert event.payload["name"] == "Piano Solo (junior)"

    def test_a_room_update_is_audited_with_what_changed(self):
        run(DATA / "schedule.json")

        result = run_json(
            {"locations": [{"name": "studio b", "building": "Arts Centre", "capacity": 35}]}
        )

        assert result.counts[("location", "update")] == 1
        assert Location.objects.get(name="Studio B").capacity == 35
        event = AuditEvent.objects.get(action="location.update")
        assert event.payload["changed"] == ["capacity"]

    def test_a_dry_run_rolls_back_what_the_services_wrote(self):
        run(DATA / "schedule.json", generate_slots=True)
        before = snapshot()
        data = json.loads((DATA / "schedule.json").read_text())
        data["tournaments"][0]["description"] = "New words"
        data["locations"][1]["capacity"] = 25
        data["time_blocks"][1]["ends_at"] = "2030-06-15 10:00"

        result = run_json(data, dry_run=True, generate_slots=True)

        assert result.summary() == (
            "Would update 1 tournament, 1 room, 1 time block; 4 unchanged; would generate 3 slots."
        )
        assert snapshot() == before


class TestCsv:
    def test_it_creates_the_blocks_and_what_they_name(self):
        result = run(DATA / "schedule.csv", generate_slots=True)

        assert result.summary() == (
            "Created 2 tournaments, 3 rooms, 4 time blocks; 0 unchanged; generated 14 slots."
        )
        chess = Tournament.objects.get(slug="chess-rapid")
        assert (chess.name, chess.category, chess.status) == (
            "Chess Rapid Open",
            "academic",
            "draft",
        )
        assert (chess.starts_on, chess.ends_on) == (date(2030, 6, 14), date(2030, 6, 14))
        assert chess.time_blocks.count() == 3
        assert Slot.objects.filter(tournament=chess, capacity=16).count() == 6
        assert Location.objects.filter(building="Sports Centre").count() == 2

    def test_rooms_already_in_lineup_are_found_ignoring_case_and_spacing(self):
        hall = LocationFactory(name="hall-a", building="SPORTS CENTRE")

        result = run(DATA / "schedule.csv")

        assert result.counts[("location", "unchanged")] == 1
        assert TimeBlock.objects.filter(location=hall).count() == 2

    def test_every_bad_line_is_reported_and_nothing_is_written(self):
        with pytest.raises(ScheduleImportInvalid) as caught:
            run(DATA / "schedule_bad.csv")

        assert caught.value.result.errors == [
            "Line 3: tournament chess-rapid: name “Chess Blitz” differs from “Chess Rapid Open” "
            "on line 2",
            "Line 4: overlaps the time block on line 2",
            "Line 5: start “25:00” is not a time (use HH:MM)",
            "Line 5: end “26:00” is not a time (use HH:MM)",
            "Line 6: the time block ends before it starts",
            "Line 7: slot minutes is missing (or mark the block's slots as manual)",
            "Line 8: category “crafts” is not one of music, dance, drama, visual_arts, sports, "
            "esports, academic, other",
        ]
        assert snapshot() == EMPTY

    def test_a_room_in_use_by_another_tournament_is_an_error(self):
        hall = LocationFactory(name="Hall A", building="Sports Centre")
        TimeBlockFactory(
            location=hall,
            tournament__name="Table Tennis",
            starts_at=local("2030-06-14 10:30"),
            ends_at=local("2030-06-14 12:00"),
        )

        with pytest.raises(ScheduleImportInvalid) as caught:
            run(DATA / "schedule.csv")

        assert caught.value.result.errors == [
            "Line 2: Hall A (Sports Centre) is already used by Table Tennis from "
            "2030-06-14 10:30 to 2030-06-14 12:00 (UTC)"
        ]

    def test_a_missing_required_column_is_refused(self, tmp_path):
        path = tmp_path / "s.csv"
        path.write_text("tournament,room,date,start\nx,Hall,2030-01-01,09:00\n")

        with pytest.raises(ImportFileError, match="Line 1: the header has no end column"):
            run(path)


class TestCommand:
    def test_it_prints_each_change_and_a_summary(self):
        out = io.StringIO()

        call_command("import_schedule", str(DATA / "schedule.csv"), stdout=out)

        lines = out.getvalue().splitlines()
        assert "Created tournament chess-rapid (line 2)" in lines
        assert "Created room Black Box (Arts Centre) (line 6)" in lines
        assert lines[-1] == "Created 2 tournaments, 3 rooms, 4 time blocks; 0 unchanged."
        assert AuditEvent.objects.filter(actor="command:import_schedule").exists()

    def test_a_dry_run_says_would(self):
        out = io.StringIO()

        call_command("import_schedule", str(DATA / "schedule.json"), "-n", stdout=out)

        assert "Would create tournament piano-junior (tournaments #1)" in out.getvalue()
        assert snapshot() == EMPTY

    def test_errors_go_to_stderr_and_fail_the_command(self):
        err = io.StringIO()

        with pytest.raises(CommandError, match=r"schedule_bad\.csv: 7 problems found"):
            call_command("import_schedule", str(DATA / "schedule_bad.csv"), stderr=err)

        assert "Line 6: the time block ends before it starts" in err.getvalue()

    def test_a_missing_file_is_refused(self):
        with pytest.raises(CommandError, match="No such file"):
            call_command("import_schedule", "nope.json")
