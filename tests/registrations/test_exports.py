import csv
import io
from datetime import timedelta

import pytest

from registrations import services
from registrations.exports import SCHEDULE_HEADER, schedule_csv_write
from tests.factories import ParticipantFactory, SlotFactory

pytestmark = pytest.mark.django_db


def test_the_schedule_lists_active_entries_in_running_order(tournament):
    late = SlotFactory(time_block__tournament=tournament)
    early = SlotFactory(
        time_block__tournament=tournament, starts_at=late.starts_at - timedelta(hours=1)
    )
    ada = ParticipantFactory(first_name="Ada", last_name="King", school="Hill School")
    bo = ParticipantFactory(first_name="Bo", last_name="Li")
    gone = ParticipantFactory()
    for slot, person in ((late, ada), (early, bo)):
        services.registration_create(
            tournament=tournament, slot_id=slot.pk, participant=person, actor="t"
        )
    cancelled = services.registration_create(tournament=tournament, participant=gone, actor="t")
    services.registration_cancel(registration=cancelled, actor="t")
    services.registration_check_in(registration=ada.registrations.get(), actor="desk")

    out = io.StringIO()
    assert schedule_csv_write(tournament=tournament, out=out) == 2

    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == SCHEDULE_HEADER
    assert [r[4] for r in rows[1:]] == ["Bo Li", "Ada King"]
    assert rows[2][6] == "Hill School"
    assert rows[2][8] == "Checked in"
    assert rows[2][9] != ""


def test_the_schedule_defuses_formulas_and_leaves_out_private_references(tournament):
    slot = SlotFactory(time_block__tournament=tournament)
    registration = services.registration_create(
        tournament=tournament,
        slot_id=slot.pk,
        entrant_name='=HYPERLINK("http://evil.example","Click")',
        actor="public",
    )

    out = io.StringIO()
    schedule_csv_write(tournament=tournament, out=out)

    (row,) = list(csv.reader(io.StringIO(out.getvalue())))[1:]
    assert row[4] == '\'=HYPERLINK("http://evil.example","Click")'
    assert registration.reference not in out.getvalue()
