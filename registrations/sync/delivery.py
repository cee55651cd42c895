"""The worker side: deliver a registration's queued changes in order, record every try, back
off on failure, disable an endpoint that answers 410 Gone; the periodic jobs' sweeps; and
"send again" from the admin."""

import json
import logging
import time
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django_tasks import task

from common import metrics
from registrations import retries
from registrations.errors import UnsafeWebhookURL
from registrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from registrations.sync.endpoints import webhook_endpoint_disable
from registrations.sync.http import webhook_post

logger = logging.getLogger(__name__)

State = WebhookDelivery.State

# The waits double from a minute up to two hours; 20 tries span a little over a day, so a
# receiver down for an hour gets everything within the hour after it is back.
MAX_ATTEMPTS = 20
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=2)
STUCK_AFTER = timedelta(minutes=5)
LOST_AFTER = timedelta(minutes=10)
# One task delivers at most this many rows, so a busy registration cannot hold a worker.
MAX_PER_RUN = 50


def backoff(attempts: int) -> timedelta:
    return retries.backoff(attempts, first=FIRST_RETRY, cap=LONGEST_WAIT)


def _in_order(rows: QuerySet[WebhookDelivery]) -> QuerySet[WebhookDelivery]:
    """Only rows with no earlier change of the same registration still on its way to the same
    endpoint: the order check. Inside the claim's UPDATE, so two workers cannot both pass it
    for the rows of one registration (the earlier row is queued or sending until it is done)."""
    earlier_open = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        registration_id=OuterRef("registration_id"),
        pk__lt=OuterRef("pk"),
        state__in=[State.QUEUED, State.SENDING],
    )
    # Subqueries, not a join: the claim stays a single-table UPDATE whose conditions
    # PostgreSQL re-checks on the row it waited for.
    active = WebhookEndpoint.objects.filter(pk=OuterRef("endpoint_id"), active=True)
    return rows.filter(Exists(active)).exclude(Exists(earlier_open))


def webhooks_deliver(*, registration_id: UUID | str) -> int:
    """Deliver the due changes of one registration, earliest first; returns how many went
    out. A failure backs its row off and holds back the later rows for that endpoint only."""
    delivered = 0
    for _ in range(MAX_PER_RUN):
        now = timezone.now()
        due = _in_order(
            WebhookDelivery.objects.filter(
                registration_id=registration_id, state=State.QUEUED, next_attempt_at__lte=now
            )
        )
        pk = due.order_by("pk").values_list("pk", flat=True).first()
        if pk is None:
            break
        if retries.claim(_in_order(WebhookDelivery.objects.filter(pk=pk)), now=now):
            delivered += _deliver(pk)
    return delivered


def _body(delivery: WebhookDelivery) -> bytes:
    message = {
        "type": delivery.event,
        "timestamp": delivery.created_at,
        "data": delivery.payload,
    }
    return json.dumps(message, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def _deliver(pk: int) -> int:
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=pk)
    endpoint = delivery.endpoint
    started = timezone.now()
    clock = time.monotonic()
    status: int | None = None
    excerpt = error = ""
    try:
        status, excerpt = webhook_post(
            url=endpoint.url,
            secret=endpoint.secret,
            # The same id on every try: the receiver's key for ignoring a repeat.
            msg_id=f"msg_{delivery.pk}",
            timestamp=int(started.timestamp()),
            body=_body(delivery),
        )
    except UnsafeWebhookURL as exc:
        error = exc.message
    except OSError as exc:
        error = repr(exc)
    WebhookAttempt.objects.create(
        delivery=delivery,
        at=started,
        status_code=status,
        response_excerpt=excerpt,
        error=error,
        duration_ms=int((time.monotonic() - clock) * 1000),
    )
    now = timezone.now()
    if status is not None and 200 <= status < 300:
        WebhookDelivery.objects.filter(pk=pk, state=State.SENDING).update(
            state=State.SENT, sent_at=now, error="", updated_at=now
        )
        return 1
    if status == 410:
        webhook_endpoint_disable(
            endpoint=endpoint, reason=f"The receiver answered 410 Gone at {now:%Y-%m-%d %H:%M} UTC."
        )
        metrics.WEBHOOK_FAILURES.labels(final="true").inc()
        return 0
    error = error or f"HTTP {status}: {excerpt[:200]}"
    logger.warning(
        "Webhook %s to %s failed (try %s): %s", pk, endpoint.url, delivery.attempts, error
    )
    final = retries.failure_record(
        WebhookDelivery,
        pk=pk,
        attempts=delivery.attempts,
        error=error,
        now=now,
        max_attempts=MAX_ATTEMPTS,
        wait=backoff(delivery.attempts),
    )
    metrics.WEBHOOK_FAILURES.labels(final=str(final).lower()).inc()
    return 0


def webhooks_requeue_stuck(*, now: datetime | None = None) -> int:
    """Queue again the rows a worker took and never finished (delivery is at least once; the
    receiver drops repeats by `webhook-id`)."""
    return retries.requeue_stuck(
        WebhookDelivery,
        now=now or timezone.now(),
        stuck_after=getattr(settings, "WEBHOOK_STUCK_AFTER", STUCK_AFTER),
        max_attempts=MAX_ATTEMPTS,
    )


def webhooks_enqueue_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Enqueue a task for each registration with a row that is due, next in its order and has
    no task yet (retries after their backoff, rows queued again, lost tasks)."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = retries.due_for_a_task(
            _in_order(WebhookDelivery.objects.all()), now=now, lost_after=LOST_AFTER
        )
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=rows.values("pk")[:limit])
            .values_list("pk", "registration_id")
        )
        WebhookDelivery.objects.filter(pk__in=[pk for pk, _ in due]).update(enqueued_at=now)
        registration_ids = sorted({str(registration_id) for _, registration_id in due})
        _enqueue(registration_ids)
    return len(registration_ids)


def _enqueue(registration_ids: list[str]) -> None:

    for registration_id in registration_ids:
        retries.enqueue(deliver_webhooks, registration_id=registration_id)


def webhooks_send_again(*, deliveries: list[WebhookDelivery]) -> int:
    """Queue these rows to go out again now (an organizer's "send again"), with every later
    row of the same registration and endpoint, so the receiver still ends on the latest
    state. Rows a worker is sending right now are left to finish. Returns the rows queued."""
    now = timezone.now()
    with transaction.atomic():
        chosen = WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries])
        later = WebhookDelivery.objects.filter(
            Exists(
                chosen.filter(
                    endpoint_id=OuterRef("endpoint_id"),
                    registration_id=OuterRef("registration_id"),
                    pk__lte=OuterRef("pk"),
                )
            )
        ).exclude(state__in=[State.SENDING, State.QUEUED])
        rows = list(later.select_for_update().values_list("pk", "registration_id"))
        WebhookDelivery.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            state=State.QUEUED,
            attempts=0,
            next_attempt_at=now,
            enqueued_at=now,
            sent_at=None,
            error="",
            updated_at=now,
        )
        _enqueue(sorted({str(registration_id) for _, registration_id in rows}))
    return len(rows)


def webhooks_queue_depth() -> int:
    """Changes waiting to be delivered, due or not (the metrics' queue depth)."""
    return WebhookDelivery.objects.filter(state=State.QUEUED).count()


@task()
def deliver_webhooks(*, registration_id: str) -> int:
    """Deliver a registration's due changes in order, in the worker; the rows record outcomes
    and retries."""
    return webhooks_deliver(registration_id=registration_id)
