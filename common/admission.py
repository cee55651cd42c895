"""The admission queue for the opening minute: arrivals beyond what the servers can serve wait
their turn, in order, instead of timing out.

A generic cell rate algorithm (GCRA): every arrival takes the next place in a schedule that
admits `rate` people per second (the first `burst` at once). Arriving reserves the place, so
people are admitted in the order they came and the wait told to each one is the time until
their own place, not a guess. The schedule is one Redis key, changed by one Lua script that
reads Redis's own clock, so every app server and worker shares one queue. Without Redis (a
development server, the tests' local-memory cache) a process-local schedule stands in.
"""

import math
import threading
import time
from dataclasses import dataclass

KEY = "lineup:admission:tat"

# GCRA: `tat` is when the schedule is next free; a place is `interval` long.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local admit_at = math.max(now, tat - burst * interval)
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX',
           math.ceil((new_tat - now) * 1000) + 1000)
return {string.format('%.6f', now), string.format('%.6f', admit_at)}
"""


@dataclass(frozen=True)
class Place:
    """A place in the queue: `admit_at` (epoch seconds) and the clock it was taken by."""

    now: float
    admit_at: float

    @property
    def wait(self) -> float:
        return max(0.0, self.admit_at - self.now)

    def ahead(self, rate: float) -> int:
        """About how many people are admitted before this one."""
        return math.ceil(self.wait * rate)


def now() -> float:
    """The clock places are compared with (the tests move it)."""
    return time.time()


_local_lock = threading.Lock()
_local_tat = 0.0


def _redis_client():
    """The Redis connection behind the default cache, or None when the cache is not Redis."""
    from django.core.cache import caches
    from django_redis import get_redis_connection
    from django_redis.cache import RedisCache

    if not isinstance(caches["default"], RedisCache):
        return None
    return get_redis_connection("default")


def admission_take(*, rate: float, burst: int) -> Place:
    """Take the next place in the queue for one arrival (admitted when `admit_at` comes)."""
    interval = 1.0 / rate
    client = _redis_client()
    if client is not None:
        current, admit_at = client.eval(_SCRIPT, 1, KEY, repr(interval), str(burst))
        return Place(now=float(current), admit_at=float(admit_at))
    global _local_tat
    with _local_lock:
        current = now()
        tat = max(_local_tat, current)
        admit_at = max(current, tat - burst * interval)
        _local_tat = tat + interval
    return Place(now=current, admit_at=admit_at)


def admission_reset() -> None:
    """Forget the queue (tests, and a bench run's fresh start)."""
    global _local_tat
    client = _redis_client()
    if client is not None:
        client.delete(KEY)
    with _local_lock:
        _local_tat = 0.0
