"""System checks for what the public pages need in production."""

from django.conf import settings
from django.core import checks

# Backends whose counters every worker process shares and increments atomically.
_SHARED_CACHES = (
    "django_redis.cache.RedisCache",
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
)


@checks.register(checks.Tags.caches, deploy=True)
def check_rate_limit_cache(app_configs, **kwargs):
    """Rate limits and proof-of-work replay checks live in the cache: it must be shared."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in _SHARED_CACHES:
        return []
    return [
        checks.Warning(
            f"The default cache ({backend}) is not shared between worker processes, so "
            "rate limits and proof-of-work checks count per process.",
            hint="Set CACHE_URL=redis://host:6379/1 in production.",
            id="lineup.W001",
        )
    ]
