"""CSV exports shared by the admin and the management commands (one code path for both)."""

import csv

from django.utils import timezone

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
    "Reference",
]


def schedule_rows(*, tournament):
    """One row per active entry of `tournament`, in running order (time, then room)."""
    registrations = (
        Registration.objects.filter(tournament=tournament, status__in=Registration.ACTIVE_STATUSES)
        .select_related("slot__location", "participant", "team")
        .prefetch_related("members")
        .order_by("slot__starts_at", "slot__location__name", "entrant_name")
    )
    for registration in registrations.iterator(chunk_size=2000):
        slot = registration.slot
        starts = timezone.localtime(slot.starts_at) if slot else None
        ends = timezone.localtime(slot.ends_at) if slot else None
        person = registration.participant
        yield [
            starts.date().isoformat() if starts else "",
            f"{starts:%H:%M}" if starts else "",
            f"{ends:%H:%M}" if ends else "",
            str(slot.location) if slot else "",
            registration.entrant_name,
            "; ".join(m.name for m in registration.members.all()),
            person.school if person else (registration.team.school if registration.team else ""),
            person.grade if person else "",
            registration.get_status_display(),
            timezone.localtime(registration.checked_in_at).strftime("%Y-%m-%d %H:%M")
            if registration.checked_in_at
            else "",
            registration.reference,
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
