"""The periodic jobs, in one place: `manage.py run_periodic_jobs` runs one pass (cron every
minute) or a loop (`--every 60`). Each job is safe to run often and at the same time as
another run: holds and waitlist offers expire once, a place is offered once, a reminder goes
out once per slot time, a message is claimed by one worker."""

import logging
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from common.locking import Busy
from registrations.notifications.outbox import (
    notifications_enqueue_due,
    notifications_requeue_stuck,
)
from registrations.notifications.reminders import reminders_queue
from registrations.services import registration_expire_holds, waitlist_fill
from registrations.sync.delivery import webhooks_enqueue_due, webhooks_requeue_stuck

logger = logging.getLogger(__name__)

ACTOR = "command:run_periodic_jobs"


def periodic_jobs_run(*, now: datetime | None = None) -> dict[str, int]:
    """One pass of every job; the count each one handled (-1: it was busy, the next pass goes
    on). The sweep comes before the retries, so a message it re-queues is enqueued at once."""
    now = now or timezone.now()
    jobs: list[tuple[str, Callable[[], int]]] = [
        # Expiring holds and offers passes their places on; the fill offers what is left.
        ("expired holds", lambda: registration_expire_holds(actor=ACTOR)),
        ("waitlist offers", lambda: waitlist_fill(actor=ACTOR, now=now)),
        ("reminders", lambda: reminders_queue(now=now)),
        ("stuck e-mails", lambda: notifications_requeue_stuck(now=now)),
        ("e-mails enqueued", lambda: notifications_enqueue_due(now=now)),
        ("stuck webhooks", lambda: webhooks_requeue_stuck(now=now)),
        ("webhooks enqueued", lambda: webhooks_enqueue_due(now=now)),
    ]
    done = {}
    for name, job in jobs:
        try:
            done[name] = job()
        except Busy:
            # A lock held too long by another change: the rest of the pass still runs.
            logger.warning("Periodic job %r was busy; the next pass continues it.", name)
            done[name] = -1
    return done
