"""Lineup's own Prometheus metrics, all defined here (requests and latency per view come from
django-prometheus's middleware). Names follow Prometheus conventions: `_total` counters,
`_seconds` histograms.
"""

from django_tasks import TaskResultStatus
from prometheus_client import Counter, Histogram

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
TASK_FAILURES = Counter("lineup_task_failures_total", "Background tasks that failed.", ["task"])

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
