"""A request id on every request: in the `X-Request-ID` response header, in every log line
written while the request runs, and on the error pages, so a person can quote it.

The id a trusted proxy sends (nginx's $request_id) is kept, so the proxy's and Lineup's logs
share it; from anyone else, or if malformed, a new one is made.
"""

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from config.client_ip import is_trusted_proxy

HEADER = "X-Request-ID"
_SAFE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

current: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        trusted = is_trusted_proxy(request.META.get("REMOTE_ADDR", ""))
        request_id = given if trusted and _SAFE.match(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response[HEADER] = request_id
        return response


def context(request: HttpRequest) -> dict[str, str]:
    """Template context: `request_id` for the error pages."""
    return {"request_id": getattr(request, "request_id", "")}
