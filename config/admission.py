"""The waiting room in front of the pages that start a sign-up ("find yourself" and the form).

With LINEUP_ADMISSION_RATE set (people per second the servers can carry, measured with
bench/opening.py), each new visitor takes a place in the shared queue (common/admission.py)
before any expensive work. Admitted at once, they never notice; otherwise they get an honest
page, "you are in the queue, about N seconds", with a 200 status, `Retry-After` and a
`Refresh` header (no script needed), and a signed cookie that keeps their place: coming back
early shows the remaining wait, never a new place at the back. Once admitted, the cookie lets
them through for ADMITTED_SECONDS, long enough to fill in the form and submit it.
Only GET and HEAD are held: a submit comes from someone who already had the form.
"""

import math

from django.conf import settings
from django.core import signing
from django.shortcuts import render

from common import admission, metrics

COOKIE = "lineup_queue"
_SALT = "lineup.admission"
ADMITTED_SECONDS = 20 * 60
# Come back at least this often to see the estimate go down.
REFRESH_AT_MOST = 10


class AdmissionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        value = getattr(request, "_admission_cookie", None)
        if value:
            response.set_cookie(
                COOKIE,
                value,
                max_age=ADMITTED_SECONDS + 3600,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        rate = settings.LINEUP_ADMISSION_RATE
        if not rate or request.method not in ("GET", "HEAD"):
            return None
        match = request.resolver_match
        if match is None or match.view_name not in settings.LINEUP_ADMISSION_VIEWS:
            return None
        current = admission.now()
        admit_at = _cookie_admit_at(request, current)
        if admit_at is None:
            place = admission.admission_take(rate=rate, burst=settings.LINEUP_ADMISSION_BURST)
            admit_at, current = place.admit_at, place.now
            request._admission_cookie = signing.dumps({"a": admit_at}, salt=_SALT)
        if admit_at <= current:
            return None
        metrics.ADMISSION_QUEUED.inc()
        return _queue_page(request, wait=admit_at - current, rate=rate)


def _cookie_admit_at(request, current):
    """The place kept in the visitor's cookie, or None (none, forged, or admitted too long
    ago: a new place then)."""
    try:
        admit_at = float(
            signing.loads(request.COOKIES.get(COOKIE, ""), salt=_SALT, max_age=3 * 3600)["a"]
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if admit_at + ADMITTED_SECONDS < current:
        return None
    return admit_at


def _queue_page(request, *, wait, rate):
    seconds = max(1, math.ceil(wait))
    again = min(seconds, REFRESH_AT_MOST)
    response = render(
        request,
        "queue.html",
        {
            "seconds": seconds,
            "minutes": math.ceil(seconds / 60),
            "ahead": max(1, math.ceil(wait * rate)),
            "again": again,
            "url": request.get_full_path(),
        },
    )
    response["Retry-After"] = str(again)
    response["Refresh"] = str(again)
    response["Cache-Control"] = "no-store"
    return response
