"""Site-wide error views that need more than Django's defaults."""

from datetime import timedelta

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def server_error(request: HttpRequest) -> HttpResponseServerError:
    """Django's 500 view renders without context; this one passes the request id only (a
    crashed request must not run context processors that could fail again)."""
    template = loader.get_template("500.html")
    return HttpResponseServerError(
        template.render({"request_id": getattr(request, "request_id", "")})
    )


def admin_locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """django-axes' answer once a login is locked (AXES_LOCKOUT_CALLABLE): the admin's own
    page saying how long the lock lasts and whom to ask, answered 429."""
    context = {
        **admin.site.each_context(request),
        "title": "Too many failed logins",
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
        "lock_lasts": _duration(get_cool_off(request)),
        "contact": settings.LINEUP_ADMIN_CONTACT,
    }
    return render(request, "admin/lineup/locked_out.html", context, status=429)


def _duration(span: timedelta | None) -> str:
    """ "1 hour", "1 hour 30 minutes", "15 minutes"."""
    minutes = round(span.total_seconds() / 60) if span else 0
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{n} {unit}{'' if n == 1 else 's'}"
        for n, unit in ((hours, "hour"), (minutes, "minute"))
        if n
    ]
    return " ".join(parts) or "a moment"
