"""CSV exports shared by the admin and the management commands (one code path for both)."""

import csv
import re

from django.utils import timezone

from common.times import local_stamp, tournament_zone
from registrations.models import Registration

SCHEDULE_HEADER = [
    "Date",
    "Start",
    "End",
    "Room",
    "Entrant",
    "Members",
    "School",
    "Grade",
    "Status",
    "Checked in at",
    # Every time of the file is local to the tournament: this names the zone (IANA).
    "Time zone",
]


def schedule_rows(*, tournament):
    """One row per active entry of `tournament`, in running order (time, then room).

    For judges and volunteers: no contacts and no private references (a reference is the
    link that cancels an entry; `registration_rows` has them for the organizers).
    """
    registrations = (
        Registration.objects.active()
        .filter(tournament=tournament)
        .select_related("slot__location", "participant", "team")
        .prefetch_related("members")
        .order_by("slot__starts_at", "slot__location__name", "entrant_name")
    )
    for registration in registrations.iterator(chunk_size=2000):
        # The zone only around the row, never across a yield into the reader's code.
        with tournament_zone(tournament):
            row = _schedule_row(registration)
        yield row


def _schedule_row(registration):
    slot = registration.slot
    starts = timezone.localtime(slot.starts_at) if slot else None
    ends = timezone.localtime(slot.ends_at) if slot else None
    person = registration.participant
    return [
        _cell(value)
        for value in (
            starts.date().isoformat() if starts else "",
            f"{starts:%H:%M}" if starts else "",
            f"{ends:%H:%M}" if ends else "",
            str(slot.location) if slot else "",
            registration.entrant_name,
            "; ".join(m.name for m in registration.members.all()),
            person.school if person else (registration.team.school if registration.team else ""),
            person.grade if person else "",
            registration.get_status_display(),
            local_stamp(registration.checked_in_at),
            timezone.get_current_timezone_name(),
        )
    ]


def schedule_csv_write(*, tournament, out) -> int:
    """Write the schedule of `tournament` as CSV to the text stream `out`; returns the rows."""
    writer = csv.writer(out)
    writer.writerow(SCHEDULE_HEADER)
    count = 0
    for row in schedule_rows(tournament=tournament):
        writer.writerow(row)
        count += 1
    return count


REGISTRATION_HEADER = [
    "Reference",
    "Tournament",
    "Tournament slug",
    "Status",
    "Entrant",
    "External ID",
    "First name",
    "Last name",
    "School",
    "Grade",
    "Team",
    "Members",
    "Seats",
    "Date",
    "Start",
    "End",
    "Room",
    "Contact name",
    "Contact e-mail",
    "Contact phone",
    "Registered at",
    "Confirmed at",
    "Hold expires at",
    "Checked in at",
    "Cancelled at",
    "Cancel reason",
    "Override reason",
    # Every time of a row is local to its tournament: this names the zone (IANA).
    "Time zone",
]

# A value that a spreadsheet would run as a formula ("=HYPERLINK(...)", "@SUM", "+cmd|...").
# Phone numbers and signed numbers ("+44 20 7946 0958", "-3") stay as they are.
_FORMULA = re.compile(r"^(?:[=@\t\r]|[+-](?![\d\s().-]*$))")


def _cell(value):
    text = "" if value is None else str(value)
    return f"'{text}" if _FORMULA.match(text) else text


def registration_rows(*, tournaments=None, statuses=None):
    """Every field of each registration (contacts included), newest tournament first.

    Streams from the database in chunks, so the export's memory does not grow with it.
    """
    registrations = Registration.objects.select_related(
        "tournament", "slot__location", "participant", "team"
    ).prefetch_related("members")
    if tournaments is not None:
        registrations = registrations.filter(tournament__in=tournaments)
    if statuses:
        registrations = registrations.filter(status__in=statuses)
    registrations = registrations.order_by("tournament__slug", "slot__starts_at", "created_at")
    for registration in registrations.iterator(chunk_size=2000):
        with tournament_zone(registration.tournament):  # each row in its tournament's zone
            row = _registration_row(registration)
        yield [_cell(value) for value in row]


def _registration_row(registration):
    slot, person = registration.slot, registration.participant
    starts = timezone.localtime(slot.starts_at) if slot else None
    ends = timezone.localtime(slot.ends_at) if slot else None
    row = [
        registration.reference,
        registration.tournament.name,
        registration.tournament.slug,
        registration.get_status_display(),
        registration.entrant_name,
        person.external_id if person else "",
        person.first_name if person else "",
        person.last_name if person else "",
        person.school if person else (registration.team.school if registration.team else ""),
        person.grade if person else "",
        registration.team.name if registration.team else "",
        "; ".join(m.name for m in registration.members.all()),
        registration.seats,
        starts.date().isoformat() if starts else "",
        f"{starts:%H:%M}" if starts else "",
        f"{ends:%H:%M}" if ends else "",
        str(slot.location) if slot else "",
        registration.contact_name,
        registration.contact_email,
        registration.contact_phone,
        local_stamp(registration.created_at),
        local_stamp(registration.confirmed_at),
        local_stamp(registration.hold_expires_at),
        local_stamp(registration.checked_in_at),
        local_stamp(registration.cancelled_at),
        registration.cancel_reason,
        registration.override_reason,
        registration.tournament.time_zone,
    ]
    return row


def registrations_csv_write(*, out, tournaments=None, statuses=None) -> int:
    """Write registrations as CSV to the text stream `out`; returns the rows written."""
    writer = csv.writer(out)
    writer.writerow(REGISTRATION_HEADER)
    count = 0
    for row in registration_rows(tournaments=tournaments, statuses=statuses):
        writer.writerow(row)
        count += 1
    return count
