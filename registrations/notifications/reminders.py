"""The reminder the day before: queued by the periodic job, once per registration and slot
time however often the job runs (the message's unique key), again after a move.

"The day before" is the tournament's local day: from 09:00 there on the day before the slot
(never at night), or as soon as it is within a day (a late sign-up)."""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from common.times import local_date, tournament_zone
from registrations.models import Notification, Registration
from tournaments.models import Slot

REMIND_BEFORE = timedelta(hours=24)
# The local time of day from which the day before's reminders go out.
REMIND_FROM = time(9)
# No slot reminded "the day before" starts later than this from now (DST's hour included).
_LOOK_AHEAD = timedelta(hours=48)


def reminder_due(registration: Registration, now: datetime) -> bool:
    """Within a day of the slot, or on its local day before from 09:00 local."""
    assert registration.slot is not None
    starts = registration.slot.starts_at
    if starts - now <= REMIND_BEFORE:
        return True
    with tournament_zone(registration.tournament):
        local_now = timezone.localtime(now)
        return (
            local_date(starts) - local_now.date() == timedelta(days=1)
            and local_now.time() >= REMIND_FROM
        )


def reminder_key(registration: Registration) -> str:
    """Once per registration, slot and start time: a move (or a slot moved in time) is new."""
    assert registration.slot is not None
    starts = registration.slot.starts_at.isoformat()
    return f"reminder:{registration.pk}:{registration.slot_id}:{starts}"


def reminders_queue(*, now: datetime | None = None) -> int:
    """Queue a reminder for every confirmed registration with an address whose slot is due
    one (`reminder_due`) and that has none for that slot and time yet; the number queued."""
    from registrations.notifications.outbox import enqueue

    now = now or timezone.now()
    coming = (
        Registration.objects.filter(
            status=Registration.Status.CONFIRMED,
            slot__starts_at__gt=now,
            slot__starts_at__lte=now + _LOOK_AHEAD,
        )
        .exclude(slot__status=Slot.Status.CANCELLED)
        .exclude(contact_email="")
        .select_related("slot", "tournament")
        .only("pk", "contact_email", "slot_id", "slot__starts_at", "tournament__time_zone")
    )
    by_key = {reminder_key(r): r for r in coming if reminder_due(r, now)}
    known = set(Notification.objects.filter(key__in=by_key).values_list("key", flat=True))
    fresh = [
        Notification(
            registration=registration,
            kind=Notification.Kind.REMINDER,
            recipient=registration.contact_email,
            key=key,
            next_attempt_at=now,
            enqueued_at=now,
        )
        for key, registration in by_key.items()
        if key not in known
    ]
    with transaction.atomic():
        # A run at the same moment may insert the same keys: the constraint keeps one of each,
        # and the other run's task for a row that was not written finds nothing to send.
        Notification.objects.bulk_create(fresh, ignore_conflicts=True)
        enqueue([n.pk for n in fresh])
    return len(fresh)
