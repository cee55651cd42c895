"""The reminder the day before: queued by the periodic job, once per registration and slot
time however often the job runs (the message's unique key), again after a move."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from registrations.models import Notification, Registration
from tournaments.models import Slot

REMIND_BEFORE = timedelta(hours=24)


def reminder_key(registration: Registration) -> str:
    """Once per registration, slot and start time: a move (or a slot moved in time) is new."""
    assert registration.slot is not None
    starts = registration.slot.starts_at.isoformat()
    return f"reminder:{registration.pk}:{registration.slot_id}:{starts}"


def reminders_queue(*, now: datetime | None = None) -> int:
    """Queue a reminder for every confirmed registration with an address whose slot starts
    within the next day and that has none for that slot and time yet; the number queued."""
    from registrations.notifications.outbox import enqueue

    now = now or timezone.now()
    coming = (
        Registration.objects.filter(
            status=Registration.Status.CONFIRMED,
            slot__starts_at__gt=now,
            slot__starts_at__lte=now + REMIND_BEFORE,
        )
        .exclude(slot__status=Slot.Status.CANCELLED)
        .exclude(contact_email="")
        .select_related("slot")
        .only("pk", "contact_email", "slot_id", "slot__starts_at")
    )
    by_key = {reminder_key(r): r for r in coming}
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
