"""Endpoints for the machines around Lineup: /healthz, /readyz (load balancer), /metrics
(Prometheus).

They are answered by the first middleware, before the Host check, the HTTPS redirect,
sessions and rate limits: a load balancer polls by address over plain HTTP, every second, and
must not be redirected, refused or counted. /readyz stays cheap: one `SELECT 1`, one cache
round trip, and the migration check re-run at most every READY_MIGRATIONS_SECONDS per process.
/metrics answers only addresses in LINEUP_METRICS_ALLOWED_IPS or a request carrying
`Authorization: Bearer <LINEUP_METRICS_TOKEN>`; anyone else gets a 404.
"""

import hmac
import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django_prometheus.exports import ExportToDjangoView

from common import metrics as lineup_metrics
from config.client_ip import client_ip, in_networks

logger = logging.getLogger(__name__)

READY_MIGRATIONS_SECONDS = 10.0

_migrations_lock = threading.Lock()
_migrations_checked: tuple[float, bool] = (0.0, False)


def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers: nothing else is touched."""
    return JsonResponse({"status": "ok"})


def _migrations_applied() -> bool:
    global _migrations_checked
    with _migrations_lock:
        checked_at, ok = _migrations_checked
        if time.monotonic() - checked_at < READY_MIGRATIONS_SECONDS:
            return ok
        executor = MigrationExecutor(connection)
        ok = not executor.migration_plan(executor.loader.graph.leaf_nodes())
        _migrations_checked = (time.monotonic(), ok)
        return ok


def _database_ok() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def _cache_ok() -> bool:
    cache.set("lineup:readyz", "1", timeout=10)
    return cache.get("lineup:readyz") == "1"


def readyz(request: HttpRequest) -> HttpResponse:
    """200 when this process can serve: database and cache answer, no migration is pending."""
    checks: dict[str, bool] = {}
    for name, check in (
        ("database", _database_ok),
        ("cache", _cache_ok),
        ("migrations", _migrations_applied),
    ):
        try:
            checks[name] = bool(check())
        except Exception:  # any failure (database, Redis client, ...) means "not ready"
            logger.warning("readyz: the %s check failed", name, exc_info=True)
            checks[name] = False
    ok = all(checks.values())
    body = {"status": "ok" if ok else "unavailable", **checks}
    return JsonResponse(body, status=200 if ok else 503)


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.LINEUP_METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    return in_networks(client_ip(request), settings.LINEUP_METRICS_ALLOWED_IPS)


def metrics(request: HttpRequest) -> HttpResponse:
    if not _metrics_allowed(request):
        return HttpResponseNotFound()
    lineup_metrics.queues_measured()
    return ExportToDjangoView(request)


ENDPOINTS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
    "/metrics": metrics,
}


class OpsEndpointsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = ENDPOINTS.get(request.path_info.rstrip("/"))
        if view is None or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        response = view(request)
        response["Cache-Control"] = "no-store"
        return response
