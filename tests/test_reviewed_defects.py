"""Defects found by walking the back office with bad input: numbers past what a column holds,
a NUL byte in an import file, and the documented "Contact e-mail" heading."""

import io
import os

import pytest
from django.core.management import CommandError, call_command

from common.models import AuditEvent
from common.tabular import Table
from participants.models import Participant
from registrations import services as registrations
from registrations.importing import participant_import_into_tournament
from registrations.models import Registration
from tests.factories import LocationFactory, SlotFactory, TournamentFactory
from tests.participants.test_importing import snapshot, write
from tournaments import services as schedule
from tournaments.errors import ScheduleError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("capacity", [65540, 40000])
def test_a_slot_capacity_past_what_the_column_holds_is_refused_and_nothing_changes(capacity):
    slot = SlotFactory(capacity=2)

    with pytest.raises(ScheduleError, match="Capacity: Ensure this value is less than or equal"):
        registrations.slot_set_capacity(slot=slot, capacity=capacity, actor="org")

    slot.refresh_from_db()
    assert (slot.capacity, slot.version) == (2, 1)
    assert not AuditEvent.objects.filter(action="slot.set_capacity").exists()


def test_every_schedule_service_bounds_its_numbers():
    tournament, room, slot = TournamentFactory(), LocationFactory(), SlotFactory()
    with pytest.raises(ScheduleError, match="Slot capacity"):
        schedule.time_block_create(
            actor="org",
            tournament=tournament,
            location=room,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            slot_minutes=10,
            slot_capacity=70000,
        )
    with pytest.raises(ScheduleError, match="Slot minutes"):
        schedule.time_block_update(time_block=slot.time_block, actor="org", slot_minutes=99999)
    with pytest.raises(ScheduleError, match="Capacity"):
        schedule.slot_create(
            time_block=slot.time_block,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            capacity=40000,
            actor="org",
        )
    with pytest.raises(ScheduleError, match="Max participants"):
        registrations.tournament_set_max_participants(
            tournament=tournament, max_participants=3_000_000_000, actor="org"
        )
    with pytest.raises(ScheduleError, match="Hold minutes"):
        registrations.tournament_update(tournament=tournament, actor="org", hold_minutes=65540)
    assert not AuditEvent.objects.exists()


def test_a_nul_byte_in_an_import_file_is_a_line_numbered_error_and_nothing_is_written(tmp_path):
    path = write(tmp_path, "First name,Last name,School\nAda,Lovelace,X\nGrace,Hop\x00per,Y\n")
    before = snapshot()

    with pytest.raises(CommandError, match="Line 3: this line holds a NUL character"):
        call_command("import_participants", str(path))

    assert snapshot() == before


def test_the_documented_contact_e_mail_heading_is_understood(tmp_path):
    tournament = TournamentFactory()
    path = write(
        tmp_path,
        "First name,Last name,Contact name,Contact e-mail,Contact phone\n"
        "Ada,Lovelace,Pat,pat@example.com,5550101\n",
    )
    result = participant_import_into_tournament(table=Table(path), actor="t", tournament=tournament)

    assert result.registered == 1
    entry = Registration.objects.get(participant=Participant.objects.get(first_name="Ada"))
    assert (entry.contact_name, entry.contact_email, entry.contact_phone) == (
        "Pat",
        "pat@example.com",
        "5550101",
    )


def test_an_export_into_a_closed_pipe_ends_quietly(slot):
    """`export_registrations | head` stops reading early: no BrokenPipe traceback, exit 0."""
    registrations.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, entrant_name="Ada L", actor="t"
    )
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line
    with open(write_end, "w") as closed_pipe, pytest.raises(SystemExit) as stopped:
        call_command("export_registrations", stdout=closed_pipe, stderr=io.StringIO())

    assert stopped.value.code == 0
