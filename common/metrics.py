"""Lineup's own Prometheus metrics, all defined here (requests and latency per view come from
django-prometheus's middleware). Names follow Prometheus conventions: `_total` counters,
`_seconds` histograms.
"""

from collections.abc import Callable

from django.db import DatabaseError
from django_tasks import TaskResultStatus
from prometheus_client import Counter, Gauge, Histogram

SIGNUPS = Counter("lineup_signups_total", "Public sign-ups the engine accepted.")
REFUSALS = Counter(
    "lineup_refusals_total",
    "Requests refused by kind: full, clash, busy, rate_limited, unavailable, other.",
    ["kind"],
)
LOCKED_TRANSACTION = Histogram(
    "lineup_locked_transaction_seconds",
    "Time inside a bounded-lock transaction, lock waits included, by outcome: ok, busy (the "
    "lock wait ran out), refused (a rule said no) or error.",
    ["outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ADMISSION_QUEUED = Counter(
    "lineup_admission_queued_total",
    "Visits shown the admission queue page instead of the page they asked for.",
)
TASK_FAILURES = Counter("lineup_task_failures_total", "Background tasks that failed.", ["task"])
NOTIFICATION_FAILURES = Counter(
    "lineup_notification_failures_total",
    "E-mail attempts that failed, by whether it was the last one (final: given up).",
    ["final"],
)
WEBHOOK_FAILURES = Counter(
    "lineup_webhook_failures_total",
    "Webhook delivery attempts that failed, by whether the change was given up (final: the "
    "last try, or the endpoint answered 410 Gone).",
    ["final"],
)
# Read at each scrape by the process that serves it; with several processes the latest wins.
QUEUE_DEPTH = Gauge(
    "lineup_task_queue_depth",
    "Work waiting in a queue (queued or due for a retry), by queue.",
    ["queue"],
    multiprocess_mode="mostrecent",
)

# How deep each queue is, registered by the app that owns it: common/ imports no app.
QUEUE_READERS: dict[str, Callable[[], int]] = {}


def queues_measured() -> None:
    """Read every registered queue's depth into QUEUE_DEPTH; a database that does not answer
    leaves the last values (the scrape must still work, and /readyz reports the database)."""
    for name, read in QUEUE_READERS.items():
        try:
            QUEUE_DEPTH.labels(queue=name).set(read())
        except DatabaseError:
            continue


# Refusals by the engine's error class name: common/ sits below the apps and does not import
# their errors. Anything unnamed here counts as "other".
_REFUSAL_KINDS = {
    "SlotFull": "full",
    "TournamentFull": "full",
    "ScheduleClash": "clash",
    "AlreadyRegistered": "clash",
    "SlotUnavailable": "unavailable",
    "TournamentNotOpen": "unavailable",
    "Busy": "busy",
    "Ratelimited": "rate_limited",
}


def refusal_counted(exc: Exception) -> None:
    """Count one refusal under the kind its exception stands for."""
    REFUSALS.labels(kind=_REFUSAL_KINDS.get(type(exc).__name__, "other")).inc()


def task_failure_counted(sender: object, task_result: object, **kwargs: object) -> None:
    """django-tasks' task_finished receiver: count the failed ones by task path."""
    if getattr(task_result, "status", None) == TaskResultStatus.FAILED:
        TASK_FAILURES.labels(task=task_result.task.module_path).inc()  # type: ignore[attr-defined]
