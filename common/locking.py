"""Short, bounded transactions for every write that takes row locks.

Rules the services follow (see `registrations/services/__init__.py`): lock late but before
checking, lock several rows in one query in primary-key order, and always in the order
participant → slot → registration → tournament so that no two operations can deadlock.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connection, transaction

from common import metrics
from common.errors import LineupError

# PostgreSQL: lock_not_available, deadlock_detected, serialization_failure.
_RETRYABLE_SQLSTATES = {"55P03", "40P01", "40001"}


class Busy(LineupError):
    """A lock could not be had in time: the caller should try again shortly."""

    message = "Lots of people are signing up right now. Please try again in a moment."


def _is_lock_failure(exc):
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    return connection.vendor == "sqlite" and "database is locked" in str(exc)


@contextmanager
def locked_atomic() -> Iterator[None]:
    """One transaction whose lock waits are bounded; a timed-out wait raises `Busy`.

    `SET LOCAL` ends with the transaction, so pooled connections keep their defaults.
    """
    started = time.perf_counter()
    outcome = "error"
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SET LOCAL lock_timeout = '{int(settings.LINEUP_LOCK_TIMEOUT_MS)}ms'"
                    )
            yield
        outcome = "ok"
    except OperationalError as exc:
        if _is_lock_failure(exc):
            outcome = "busy"
            raise Busy() from exc
        raise
    except LineupError:
        outcome = "refused"
        raise
    finally:
        # Lock waits are what grows under contention: this histogram shows them coming.
        metrics.LOCKED_TRANSACTION.labels(outcome=outcome).observe(time.perf_counter() - started)
