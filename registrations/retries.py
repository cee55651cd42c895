"""What the e-mail outbox and the webhook outbox share: a row holds its own retry state
(queued → sending → sent or failed, attempts, next attempt, when a task was last enqueued,
when a worker claimed it), so a lost or failed task never loses the work. The rows' models
have the same field names, so these helpers take the model."""

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import models, transaction
from django.db.models import F, Q
from django_tasks import task_backends
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"


def backoff(attempts: int, *, first: timedelta, cap: timedelta | None = None) -> timedelta:
    """The wait after the `attempts`-th failed try: first, twice that, four times, … up to `cap`."""
    wait = first * 2 ** min(max(attempts - 1, 0), 30)
    return min(wait, cap) if cap else wait


def enqueue(task: Task[Any, Any], **kwargs: Any) -> None:
    """Enqueue `task` so that it exists only if the caller's transaction commits.

    The database backend writes the task row in the caller's transaction, so it commits or
    rolls back with it. Any other backend (the immediate one runs the task at once) gets it
    only after commit, so nothing happens for a change that rolls back.
    """
    call: Callable[[], object] = partial(task.enqueue, **kwargs)
    if isinstance(task_backends[task.backend], DatabaseBackend):
        call()
    else:
        transaction.on_commit(call, robust=True)


def claim(rows: models.QuerySet[Any], *, now: datetime) -> bool:
    """Take one queued, due row for this worker (a conditional UPDATE: of two workers given
    the same row only one gets it); `rows` filters it to exactly one row."""
    return (
        rows.filter(state=QUEUED, next_attempt_at__lte=now).update(
            state=SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
        )
        == 1
    )


def failure_record(
    model: type[models.Model],
    *,
    pk: Any,
    attempts: int,
    error: str,
    now: datetime,
    max_attempts: int,
    wait: timedelta,
) -> bool:
    """Record a failed try of a row this worker claimed: queued again after `wait`, or failed
    for good after `max_attempts`. True if it was the last try."""
    final = attempts >= max_attempts
    changes: dict[str, Any] = (
        {"state": FAILED} if final else {"state": QUEUED, "next_attempt_at": now + wait}
    )
    # Only if still ours: the sweep may have taken it back meanwhile.
    model._default_manager.filter(pk=pk, state=SENDING).update(
        error=error[:2000], updated_at=now, **changes
    )
    return final


def requeue_stuck(
    model: type[models.Model], *, now: datetime, stuck_after: timedelta, max_attempts: int
) -> int:
    """Queue again the rows a worker took and never finished (it died or was killed); those
    out of attempts fail. A row may have gone out just before the worker died: at least once."""
    stuck = model._default_manager.filter(state=SENDING, claimed_at__lt=now - stuck_after)
    note = "The worker stopped while sending; queued again."
    given_up = stuck.filter(attempts__gte=max_attempts).update(
        state=FAILED, error=note, updated_at=now
    )
    requeued = stuck.update(state=QUEUED, next_attempt_at=now, error=note, updated_at=now)
    return given_up + requeued


def due_for_a_task(rows: models.QuerySet[Any], *, now: datetime, lost_after: timedelta) -> Any:
    """The queued rows whose (next) attempt is due and that have no task yet: retries after
    their backoff, rows queued again by the sweep or by hand, tasks that were lost."""
    return rows.filter(state=QUEUED, next_attempt_at__lte=now).filter(
        Q(enqueued_at__isnull=True)
        | Q(enqueued_at__lt=F("next_attempt_at"))
        | Q(enqueued_at__lt=now - lost_after)
    )
