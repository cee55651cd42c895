"""Every request reads and types times in its tournament's zone.

The public pages of one tournament (`t/<slug>/…`) switch to its zone before the view runs,
so every time the view, its forms and its template turn into text (the `date` and `time`
filters, `common.times`) is the tournament's local time, and a typed time is read as one.
Every request starts and ends in the default zone (LINEUP_TIME_ZONE), so one request's zone
never leaks into the next served by the same thread. An entry's pages (`r/<reference>/…`)
switch once they have read it (no extra query); pages of several tournaments (the home page,
a series) switch per tournament in their templates (`{% timezone %}`); the admin does it per
object (`common.admin.base`).
"""

from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils import timezone

from common.times import zone
from tournaments.selectors import tournament_get_public


def _zone_name(route: str, kwargs: dict) -> str | None:
    if "slug" in kwargs and (route.startswith("t/<") or "/t/<" in route):
        try:
            return tournament_get_public(slug=kwargs["slug"]).time_zone
        except Http404:
            return None  # the view answers 404 itself
        except (OperationalError, InterfaceError):
            return None  # the view meets it too, and its error page says "try again"
    return None


class TournamentTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        name = _zone_name(match.route if match else "", view_kwargs)
        if name:
            timezone.activate(zone(name))
