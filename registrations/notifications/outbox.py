"""The e-mail outbox: a `Notification` row is written with the change it reports and a task is
enqueued with it; the worker claims the row, sends, and records the outcome. Failures back off
exponentially; rows a dead worker left in "sending" are queued again by the sweep."""

import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from common import metrics
from registrations import retries
from registrations.models import Notification, Registration, WaitlistEntry
from registrations.notifications.messages import message_for

logger = logging.getLogger(__name__)

State = Notification.State

# Attempts before a message is marked failed; the waits between them double from a minute,
# so the last try comes a little over four hours after the first.
MAX_ATTEMPTS = 9
FIRST_RETRY = timedelta(minutes=1)
# A message in "sending" this long belongs to a worker that died: queue it again.
STUCK_AFTER = timedelta(minutes=5)
# A queued message whose task this long ago never ran (worker queue lost, backend swapped):
# enqueue it again. Extra tasks are harmless: only one can claim the row.
LOST_AFTER = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 1, 2, 4, … minutes."""
    return retries.backoff(attempts, first=FIRST_RETRY)


def enqueue(notification_ids: list[UUID]) -> None:
    """Ask the worker to send these messages, if (and only if) the caller's transaction
    commits (`retries.enqueue`)."""
    for pk in notification_ids:
        retries.enqueue(send_notification, notification_id=str(pk))


def notification_queue(
    *,
    registration: Registration,
    kind: str,
    data: dict[str, Any] | None = None,
    recipient: str = "",
) -> Notification | None:
    """Queue an e-mail to the registration's contact (or `recipient`) about `kind`, in the
    caller's transaction.

    Without a contact address there is nothing to send and nothing is written (one INSERT, plus
    the task's with the database backend, only for entries that get mail).
    """
    recipient = recipient or registration.contact_email
    if not recipient:
        return None
    now = timezone.now()
    notification = Notification.objects.create(
        registration=registration,
        kind=kind,
        recipient=recipient,
        data=data or {},
        next_attempt_at=now,
        enqueued_at=now,
    )
    enqueue([notification.pk])
    return notification


def waitlist_notification_queue(*, entry: WaitlistEntry, kind: str) -> Notification:
    """Queue an e-mail to a waitlist entry's contact (always given: joining needs an address)
    about `kind`, in the caller's transaction; sent by the worker like any other."""
    now = timezone.now()
    notification = Notification.objects.create(
        waitlist_entry=entry,
        kind=kind,
        recipient=entry.contact_email,
        next_attempt_at=now,
        enqueued_at=now,
    )
    enqueue([notification.pk])
    return notification


# What a message shows, read afresh when it is sent. Built once; `get` works on a copy.
_FOR_SENDING = Notification.objects.select_related(
    "registration__tournament",
    "registration__slot__location",
    "registration__slot__tournament",  # the slot's zone (`slot_facts`), without a query of its own
    "waitlist_entry__tournament",
    "waitlist_entry__slot__location",
)


def notification_send(*, notification_id: UUID | str) -> bool:
    """Send one queued message that is due; True if it went out.

    The claim is a conditional UPDATE (queued and due → sending), so of two workers given the
    same message only one sends it. A failure is recorded on the row and retried later; it
    never propagates, since the row, not the task, holds the retry state.
    """
    if not retries.claim(Notification.objects.filter(pk=notification_id), now=timezone.now()):
        return False
    notification = _FOR_SENDING.get(pk=notification_id)
    try:
        message_for(notification).send()
    except Exception as exc:
        logger.warning(
            "E-mail %s failed (attempt %s): %r", notification.pk, notification.attempts, exc
        )
        _record_failure(notification, error=repr(exc))
        return False
    Notification.objects.filter(pk=notification.pk, state=State.SENDING).update(
        state=State.SENT, sent_at=timezone.now(), error="", updated_at=timezone.now()
    )
    return True


def notification_queue_depth() -> int:
    """Messages waiting to be sent, due or not (the metrics' queue depth)."""
    return Notification.objects.filter(state=State.QUEUED).count()


def _record_failure(notification: Notification, *, error: str) -> None:
    final = retries.failure_record(
        Notification,
        pk=notification.pk,
        attempts=notification.attempts,
        error=error,
        now=timezone.now(),
        max_attempts=MAX_ATTEMPTS,
        wait=backoff(notification.attempts),
    )
    metrics.NOTIFICATION_FAILURES.labels(final=str(final).lower()).inc()


def notifications_requeue_stuck(*, now: datetime | None = None) -> int:
    """Queue again the messages a worker took and never finished (it died or was killed).

    Such a message may have gone out just before the worker died: sending is at least once.
    """
    return retries.requeue_stuck(
        Notification,
        now=now or timezone.now(),
        stuck_after=getattr(settings, "NOTIFICATION_STUCK_AFTER", STUCK_AFTER),
        max_attempts=MAX_ATTEMPTS,
    )


def notifications_enqueue_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Enqueue a task for each queued message whose (next) attempt is due and has none yet:
    retries after their backoff, messages the sweep or "send again" queued, lost tasks."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            retries.due_for_a_task(
                Notification.objects.select_for_update(skip_locked=True),
                now=now,
                lost_after=LOST_AFTER,
            )
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=due).update(enqueued_at=now)
        enqueue(due)
    return len(due)


def notifications_send_again(*, notifications: list[Notification]) -> int:
    """Queue these messages to go out again now, whatever their state (an organizer's
    "send again"); a message a worker is sending right now is left to finish."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.filter(pk__in=[n.pk for n in notifications])
            .exclude(state=State.SENDING)
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(
            state=State.QUEUED,
            attempts=0,
            next_attempt_at=now,
            enqueued_at=now,
            sent_at=None,
            error="",
            updated_at=now,
        )
        enqueue(ids)
    return len(ids)


@task()
def send_notification(*, notification_id: str) -> bool:
    """Send one queued e-mail, in the worker; its row records the outcome and any retry (never
    raises for a failed send, so the backend's own retries are not involved)."""
    return notification_send(notification_id=notification_id)
