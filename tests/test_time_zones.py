"""Every time in its tournament's zone: pages, e-mails, exports, the admin, the schedule
import and the reminders, across the changes to and from summer time.

Europe/Paris is UTC+1 (CET) in winter and UTC+2 (CEST) in summer; in 2030 summer time starts
on Sunday 31 March (02:00 → 03:00) and ends on Sunday 27 October (03:00 → 02:00).
"""

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from common.times import (
    local_aware,
    local_moment,
    local_when,
    time_zone_validate,
    tournament_zone,
    zone_abbreviation,
)
from registrations import services as engine
from registrations.exports import SCHEDULE_HEADER, registrations_csv_write, schedule_csv_write
from registrations.models import Notification
from registrations.notifications.messages import message_for
from registrations.notifications.reminders import reminders_queue
from tests.admin_client import add_url, change_url, changelist_url
from tests.factories import (
    LocationFactory,
    ParticipantFactory,
    SlotFactory,
    TimeBlockFactory,
    TournamentFactory,
)
from tests.tournaments.test_admin import tournament_form
from tests.tournaments.test_importing import run
from tournaments import errors as schedule_errors
from tournaments import services as schedule_services
from tournaments.importing import ScheduleImportInvalid
from tournaments.models import Slot, TimeBlock, Tournament

pytestmark = pytest.mark.django_db

PARIS = "Europe/Paris"
DASH = "\N{EN DASH}"  # between a slot's start and end on the pages
NEW_YORK = "America/New_York"


def utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def slot_at(starts, *, time_zone=PARIS, capacity=3, **tournament):
    return SlotFactory(
        starts_at=starts,
        capacity=capacity,
        time_block__tournament__time_zone=time_zone,
        **{f"time_block__tournament__{k}": v for k, v in tournament.items()},
    )


def sign_up(slot, **kwargs):
    return engine.registration_create(
        tournament=slot.tournament,
        slot_id=slot.pk,
        participant=kwargs.pop("participant", None) or ParticipantFactory(),
        contact_email="parent@example.com",
        actor="public",
        **kwargs,
    )


class TestTheFormatter:
    def test_it_names_the_zone_as_it_is_called_that_day(self):
        with timezone.override(PARIS):
            assert local_when(utc("2030-01-12 08:00"), zone=True) == "Sat 12 Jan 09:00 (CET)"
            assert local_when(utc("2030-07-13 07:00"), zone=True) == "Sat 13 Jul 09:00 (CEST)"

    def test_a_skipped_clock_time_is_refused_and_a_doubled_one_takes_the_first(self):
        with pytest.raises(ValueError, match="the clocks skip it"):
            local_moment(date(2030, 3, 31), time(2, 30), zone_name=PARIS)
        assert local_aware(datetime(2030, 1, 12, 9), tz=_zone(PARIS)) == utc("2030-01-12 08:00")
        first = local_moment(date(2030, 10, 27), time(2, 30), zone_name=PARIS)
        assert first.astimezone(UTC) == utc("2030-10-27 00:30")  # still summer time: CEST

    def test_an_unknown_zone_gets_a_clear_message(self):
        for wrong in ("Europe/Pariss", "CET+1", "", " Europe/Paris", "../etc/passwd"):
            with pytest.raises(ValidationError, match="is not a time zone"):
                time_zone_validate(wrong)


class TestTheTournamentsZone:
    def test_a_new_tournament_takes_the_configured_default(self):
        with override_settings(LINEUP_TIME_ZONE="Europe/Lisbon"):
            created = schedule_services.tournament_create(actor="t", name="Fado", slug="fado")
        assert created.time_zone == "Europe/Lisbon"

    def test_the_services_refuse_a_zone_that_does_not_exist(self):
        with pytest.raises(schedule_errors.ScheduleError, match="“Mars/Olympus” is not a time"):
            schedule_services.tournament_create(
                actor="t", name="X", slug="x", time_zone="Mars/Olympus"
            )
        tournament = TournamentFactory(time_zone=PARIS)
        with pytest.raises(schedule_errors.ScheduleError, match="is not a time zone"):
            engine.tournament_update(tournament=tournament, actor="t", time_zone="Paris")
        tournament.refresh_from_db()
        assert tournament.time_zone == PARIS


class TestPublicPages:
    def test_the_tournament_page_shows_local_times_and_names_the_zone(self, client):
        slot = slot_at(utc("2030-01-12 08:00"))

        page = client.get(reverse("tournaments:detail", args=[slot.tournament.slug]))

        text = page.content.decode()
        assert f"09:00{DASH}09:10" in text
        assert "Times are in Europe/Paris (CET)." in text
        assert f"08:00{DASH}08:10" not in text

    def test_a_summer_day_is_in_summer_time(self, client):
        slot = slot_at(utc("2030-07-13 07:00"))

        page = client.get(reverse("tournaments:schedule", args=[slot.tournament.slug]))

        text = page.content.decode()
        assert f"09:00{DASH}09:10" in text
        assert "Times are in Europe/Paris (CEST)." in text

    def test_a_day_is_the_local_day(self, client):
        # 23:30 UTC on the 12th is 00:30 on the 13th in Paris.
        slot = slot_at(utc("2030-01-12 23:30"))

        page = client.get(reverse("tournaments:detail", args=[slot.tournament.slug]))

        assert "Sunday 13 January 2030" in page.content.decode()
        assert f"00:30{DASH}00:40" in page.content.decode()

    def test_the_reference_page_names_the_zone_of_the_hold_deadline(self, client):
        slot = slot_at(utc("2030-01-12 08:00"), hold_minutes=30)
        registration = sign_up(slot, hold=True)

        page = client.get(reverse("registrations:detail", args=[registration.reference]))

        text = page.content.decode()
        assert f"09:00{DASH}09:10 (CET)" in text
        deadline = timezone.localtime(registration.hold_expires_at, timezone=_zone(PARIS))
        assert f"{deadline:%H:%M} ({deadline.tzname()})" in text

    def test_the_home_page_shows_each_tournament_in_its_own_zone(self, client):
        closes = utc("2030-01-10 17:00")
        for name, zone_name in (("Paris Piano", PARIS), ("New York Piano", NEW_YORK)):
            TournamentFactory(
                name=name,
                time_zone=zone_name,
                registration_opens_at=timezone.now() - timedelta(days=1),
                registration_closes_at=closes,
            )

        text = client.get(reverse("tournaments:list")).content.decode()

        assert "until Thu 10 Jan, 18:00 (CET)" in text
        assert "until Thu 10 Jan, 12:00 (EST)" in text

    def test_the_festival_search_shows_each_entry_in_its_tournaments_zone(self, client, postgres):
        person = ParticipantFactory(first_name="Zoë", last_name="Quillfeather")
        sign_up(slot_at(utc("2030-01-12 08:00")), participant=person)
        sign_up(slot_at(utc("2030-01-12 14:00"), time_zone=NEW_YORK), participant=person)

        text = client.get(reverse("tournaments:list"), {"q": "Quillfeather"}).content.decode()

        assert "Sat 12 Jan, 09:00 (CET)" in text
        assert "Sat 12 Jan, 09:00 (EST)" in text

    def test_a_pages_zone_does_not_leak_into_the_next_request(self, client):
        slot = slot_at(utc("2030-01-12 08:00"), time_zone="Asia/Tokyo")
        client.get(reverse("tournaments:detail", args=[slot.tournament.slug]))
        assert timezone.get_current_timezone_name() == "UTC"


def _zone(name):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


class TestEmails:
    def test_the_held_email_names_the_zone_of_its_time_and_deadline(
        self, django_capture_on_commit_callbacks
    ):
        slot = slot_at(utc("2030-07-13 07:00"), hold_minutes=30)
        with django_capture_on_commit_callbacks(execute=True):
            registration = sign_up(slot, hold=True)

        (message,) = mail.outbox
        assert "Sat 13 Jul 2030 09:00-09:10 (CEST)" in message.body
        deadline = timezone.localtime(registration.hold_expires_at, timezone=_zone(PARIS))
        # The deadline is soon (now is not summer, or is): named as it is called then.
        assert f"before {deadline:%a %-d %b, %H:%M} ({deadline.tzname()})" in message.body
        html, _ = message.alternatives[0]
        assert "09:00-09:10 (CEST)" in html
        assert timezone.get_current_timezone_name() == "UTC"

    def test_a_move_shows_both_times_in_the_tournaments_zone(
        self, django_capture_on_commit_callbacks
    ):
        slot = slot_at(utc("2030-01-12 08:00"))
        later = SlotFactory(
            time_block=slot.time_block, starts_at=utc("2030-01-12 08:30"), number=2, capacity=3
        )
        registration = sign_up(slot)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            engine.registration_move(registration=registration, to_slot_id=later.pk, actor="o")

        (message,) = mail.outbox
        assert "Was:   Sat 12 Jan 2030 09:00-09:10 (CET)" in message.body
        assert "Now:   Sat 12 Jan 2030 09:30-09:40 (CET)" in message.body


class TestReminders:
    def test_the_day_before_is_the_local_day_before_from_nine(self):
        # Sunday 27 October 2030, 09:00 CET (08:00 UTC), the day summer time ends. The day
        # before is Saturday in Paris, whose 09:00 is CEST: 07:00 UTC.
        sign_up(slot_at(utc("2030-10-27 08:00")))

        assert reminders_queue(now=utc("2030-10-26 06:59")) == 0
        assert reminders_queue(now=utc("2030-10-26 07:00")) == 1
        reminder = message_for(Notification.objects.get(kind="reminder"))
        assert "Sun 27 Oct 2030 09:00-09:10 (CET)" in reminder.subject

    def test_a_tournament_west_of_utc_counts_its_own_morning(self):
        sign_up(slot_at(utc("2030-01-12 23:00"), time_zone=NEW_YORK))  # Sat 18:00 EST

        assert reminders_queue(now=utc("2030-01-11 09:00")) == 0  # Fri 04:00 EST: night
        assert reminders_queue(now=utc("2030-01-11 13:59")) == 0  # Fri 08:59 EST
        assert reminders_queue(now=utc("2030-01-11 14:00")) == 1  # Fri 09:00 EST


class TestExports:
    def test_the_schedule_csv_is_in_the_tournaments_zone_and_says_which(self):
        slot = slot_at(utc("2030-01-12 23:30"))
        sign_up(slot)
        out = io.StringIO()

        schedule_csv_write(tournament=slot.tournament, out=out)

        header, row = list(csv.reader(io.StringIO(out.getvalue())))
        assert header == SCHEDULE_HEADER
        values = dict(zip(header, row, strict=True))
        assert (values["Date"], values["Start"], values["End"]) == ("2030-01-13", "00:30", "00:40")
        assert values["Time zone"] == PARIS

    def test_the_registrations_csv_gives_each_row_its_tournaments_zone(self):
        sign_up(slot_at(utc("2030-01-12 08:00")))
        sign_up(slot_at(utc("2030-01-12 14:00"), time_zone=NEW_YORK))
        out = io.StringIO()

        registrations_csv_write(out=out)

        header, *rows = list(csv.reader(io.StringIO(out.getvalue())))
        found = {(r[header.index("Start")], r[header.index("Time zone")]) for r in rows}
        assert found == {("09:00", PARIS), ("09:00", NEW_YORK)}


class TestAdmin:
    def test_a_time_block_typed_at_nine_in_paris_is_eight_utc_in_winter(self, organizer_client):
        tournament, room = TournamentFactory(time_zone=PARIS), LocationFactory()

        organizer_client.post(
            add_url(TimeBlock),
            {
                "tournament": str(tournament.pk),
                "location": str(room.pk),
                "starts_at_0": "2030-01-12",
                "starts_at_1": "09:00:00",
                "ends_at_0": "2030-01-12",
                "ends_at_1": "12:00:00",
                "slot_minutes": "30",
                "slot_capacity": "1",
            },
        )

        block = TimeBlock.objects.get(tournament=tournament)
        assert (block.starts_at, block.ends_at) == (
            utc("2030-01-12 08:00"),
            utc("2030-01-12 11:00"),
        )

    def test_a_block_across_the_spring_change_is_two_hours_long(self, organizer_client):
        block = TimeBlockFactory(
            tournament__time_zone=PARIS,
            starts_at=utc("2030-03-30 08:00"),
            ends_at=utc("2030-03-30 09:00"),
        )

        response = organizer_client.get(change_url(block))
        assert "Local time in Europe/Paris." in response.content.decode()
        assert 'value="09:00:00"' in response.content.decode()

        organizer_client.post(
            change_url(block),
            {
                "location": str(block.location.pk),
                "starts_at_0": "2030-03-31",
                "starts_at_1": "01:00:00",
                "ends_at_0": "2030-03-31",
                "ends_at_1": "04:00:00",
                "slot_minutes": "30",
                "slot_capacity": "1",
            },
        )

        block.refresh_from_db()
        # 01:00 CET is 00:00 UTC; 04:00 CEST is 02:00 UTC: the clocks skipped an hour.
        assert (block.starts_at, block.ends_at) == (
            utc("2030-03-31 00:00"),
            utc("2030-03-31 02:00"),
        )

    def test_the_sign_up_window_is_typed_in_the_tournaments_zone(self, organizer_client):
        tournament = TournamentFactory(time_zone=PARIS)
        data = tournament_form(tournament)
        data.update(
            registration_opens_at_0="2030-01-05",
            registration_opens_at_1="09:00:00",
            registration_closes_at_0="2030-07-05",
            registration_closes_at_1="18:00:00",
        )

        response = organizer_client.post(change_url(tournament), data)

        assert response.status_code == 302
        tournament.refresh_from_db()
        assert tournament.registration_opens_at == utc("2030-01-05 08:00")  # CET
        assert tournament.registration_closes_at == utc("2030-07-05 16:00")  # CEST

    def test_a_new_tournament_reads_its_window_in_the_zone_it_is_given(self, organizer_client):
        data = tournament_form(TournamentFactory.build(slug="ny-open", name="NY Open"))
        data.update(
            time_zone=NEW_YORK,
            registration_opens_at_0="2030-01-05",
            registration_opens_at_1="09:00:00",
            registration_closes_at_0="2030-01-06",
            registration_closes_at_1="09:00:00",
        )

        response = organizer_client.post(add_url(Tournament), data)

        assert response.status_code == 302, response.content.decode()[:3000]
        created = Tournament.objects.get(slug="ny-open")
        assert created.time_zone == NEW_YORK
        assert created.registration_opens_at == utc("2030-01-05 14:00")

    def test_an_unknown_zone_is_a_form_error(self, organizer_client):
        tournament = TournamentFactory(time_zone=PARIS)
        data = tournament_form(tournament, time_zone="Europe/Atlantis")

        response = organizer_client.post(change_url(tournament), data)

        assert response.status_code == 200
        assert "“Europe/Atlantis” is not a time zone" in response.content.decode()
        tournament.refresh_from_db()
        assert tournament.time_zone == PARIS

    def test_the_slot_list_shows_each_slot_in_its_tournaments_zone(self, organizer_client):
        slot_at(utc("2030-01-12 08:00"))
        slot_at(utc("2030-01-12 14:00"), time_zone=NEW_YORK)

        text = organizer_client.get(changelist_url(Slot)).content.decode()

        assert "Sat 12 Jan 2030 09:00-09:10 (CET)" in text
        assert "Sat 12 Jan 2030 09:00-09:10 (EST)" in text

    def test_the_day_grid_is_the_tournaments_local_day(self, organizer_client):
        slot = slot_at(utc("2030-01-12 23:30"))
        url = reverse("admin:tournaments_tournament_schedule", args=[slot.tournament.pk])

        text = organizer_client.get(url, {"day": "2030-01-13"}).content.decode()

        assert f"00:30{DASH}00:40" in text


class TestScheduleImport:
    def write(self, tmp_path, text):
        path = tmp_path / "schedule.csv"
        path.write_text(text, encoding="utf-8")
        return path

    def test_the_files_times_are_in_the_zone_it_gives_the_tournament(self, tmp_path):
        path = self.write(
            tmp_path,
            "Tournament,Tournament name,Time zone,Room,Date,Start,End,Slot minutes\n"
            "tz-open,TZ Open,Europe/Paris,Hall A,2030-01-12,09:00,10:00,30\n"
            "tz-open,,,Hall A,2030-07-13,09:00,10:00,30\n",
        )

        run(path)

        tournament = Tournament.objects.get(slug="tz-open")
        assert tournament.time_zone == PARIS
        starts = sorted(TimeBlock.objects.values_list("starts_at", flat=True))
        assert starts == [utc("2030-01-12 08:00"), utc("2030-07-13 07:00")]

    def test_a_tournament_already_in_lineup_keeps_its_zone(self, tmp_path):
        TournamentFactory(slug="nyc", time_zone=NEW_YORK)
        LocationFactory(name="Hall A", building="")
        path = self.write(
            tmp_path,
            "Tournament,Room,Date,Start,End,Slot minutes\nnyc,Hall A,2030-01-12,09:00,10:00,30\n",
        )

        run(path)

        assert TimeBlock.objects.get().starts_at == utc("2030-01-12 14:00")

    def test_a_time_the_clocks_skip_is_an_error_with_its_line(self, tmp_path):
        path = self.write(
            tmp_path,
            "Tournament,Tournament name,Time zone,Room,Date,Start,End,Slot minutes\n"
            "tz-open,TZ Open,Europe/Paris,Hall A,2030-03-31,02:30,04:00,30\n",
        )

        with pytest.raises(ScheduleImportInvalid) as caught:
            run(path)

        (error,) = caught.value.result.errors
        assert error.startswith("Line 2: 2030-03-31 02:30 does not exist in Europe/Paris")

    def test_an_unknown_zone_is_an_error_with_its_line(self, tmp_path):
        path = self.write(
            tmp_path,
            "Tournament,Tournament name,Time zone,Room,Date,Start,End,Slot minutes\n"
            "tz-open,TZ Open,Paris,Hall A,2030-01-12,09:00,10:00,30\n",
        )

        with pytest.raises(ScheduleImportInvalid) as caught:
            run(path)

        assert any("“Paris” is not a time zone" in e for e in caught.value.result.errors)
        assert not Tournament.objects.filter(slug="tz-open").exists()


def test_tournament_zone_restores_the_zone_it_found():
    tournament = Tournament(time_zone="Asia/Kolkata")
    with tournament_zone(tournament):
        assert zone_abbreviation(utc("2030-01-12 08:00")) == "IST"
    assert timezone.get_current_timezone_name() == "UTC"
