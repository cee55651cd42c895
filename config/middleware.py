"""Turn the "not now" exceptions into friendly pages instead of errors.

`Busy` (a lock wait ran out in the reservation engine) and a database that cannot be reached
(a restart takes a few seconds) become 503 with Retry-After, and django-ratelimit's
`Ratelimited` becomes 429: each says "try again in a moment" rather than the 500 or 403 it
would otherwise be. All are counted in lineup_refusals_total.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.shortcuts import render
from django.template import loader
from django_ratelimit.exceptions import Ratelimited

from common import metrics
from common.locking import Busy

logger = logging.getLogger(__name__)

# A lost or refused connection (and SQLite's "database is locked") is psycopg's and Django's
# OperationalError; a connection already closed under us is InterfaceError.
DATABASE_UNAVAILABLE = OperationalError | InterfaceError


class FriendlyErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Busy | Ratelimited | DATABASE_UNAVAILABLE):
            metrics.refusal_counted(exception)
        if isinstance(exception, Busy):
            response = render(request, "503.html", {"message": exception.message}, status=503)
            response["Retry-After"] = "5"
            return response
        if isinstance(exception, DATABASE_UNAVAILABLE):
            logger.warning("database unavailable: %s", exception, exc_info=exception)
            return _database_unavailable(request)
        if isinstance(exception, Ratelimited):
            response = render(request, "429.html", status=429)
            response["Retry-After"] = "60"
            return response
        return None


def _database_unavailable(request):
    """The 503 page, rendered without the context processors: the messages one reads the
    session, which lives in the database that just failed."""
    html = loader.get_template("503.html").render(
        {
            "message": "We cannot reach our database for a moment. Please try again in a few "
            "seconds.",
            "request_id": getattr(request, "request_id", ""),
        }
    )
    response = HttpResponse(html, status=503)
    response["Retry-After"] = "5"
    return response
