"""Calendars and the embeddable schedule: the public feeds of a tournament and of each of its
rooms, an entrant's own .ics (behind the private link), and the page other sites frame."""

from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe
from django_ratelimit.decorators import ratelimit

from common.times import tournament_zone, tournament_zoneinfo
from opendata.caching import conditional_cached
from opendata.calendars import schedule_feed_ics
from registrations import selectors as registration_selectors
from registrations.calendars import registration_calendar_name, registration_ics
from tournaments import selectors as tournament_selectors

# Feeds are fetched by calendar servers on behalf of many people (one address, many
# subscribers), so they are not rate limited; the cache keeps each one to one build a minute.
FEED_CACHE_SECONDS = 60
EMBED_CACHE_SECONDS = 10
# The embed script's words change only with a release.
WORDS_CACHE_SECONDS = 24 * 3600
CALENDAR = "text/calendar; charset=utf-8"


def _feed(request, slug, room=None):
    tournament = tournament_selectors.tournament_get_public(slug=slug)
    location = None
    if room is not None:
        location = next(
            (
                r
                for r in tournament_selectors.tournament_rooms(tournament=tournament)
                if r.pk == room
            ),
            None,
        )
        if location is None:
            raise Http404("No such room in this tournament.")
    link = request.build_absolute_uri(reverse("tournaments:detail", args=[slug]))
    body = schedule_feed_ics(tournament=tournament, location=location, link=link)
    response = HttpResponse(body, content_type=CALENDAR)
    name = f"{slug}-{location.name}" if location else slug
    response["Content-Disposition"] = f'inline; filename="{_safe(name)}.ics"'
    return response


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


@require_safe
@conditional_cached(FEED_CACHE_SECONDS)
def tournament_calendar(request, slug):
    return _feed(request, slug)


@require_safe
@conditional_cached(FEED_CACHE_SECONDS)
def room_calendar(request, slug, room):
    return _feed(request, slug, room)


def _reference_rate(group, request):
    return settings.LINEUP_RATE_REFERENCE


@require_safe
@never_cache  # a private file: no shared cache keeps it
@ratelimit(key="ip", rate=_reference_rate, group="reference")
def registration_calendar(request, reference):
    """The entrant's time as an .ics download; the private reference is the key."""
    registration = registration_selectors.registration_get_by_reference(reference=reference)
    link = request.build_absolute_uri(reverse("registrations:detail", args=[reference]))
    body = registration_ics(registration, link=link)
    if body is None:
        raise Http404("This registration has no time yet.")
    response = HttpResponse(body, content_type=CALENDAR)
    filename = registration_calendar_name(registration)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _frameable(view):
    """Lets other sites frame this view's pages: no X-Frame-Options, and the CSP's
    frame-ancestors from LINEUP_EMBED_FRAME_ANCESTORS instead of 'none'."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response._csp_replace = {"frame-ancestors": settings.LINEUP_EMBED_FRAME_ANCESTORS}
        return response

    return xframe_options_exempt(wrapped)


@require_safe
@_frameable
@conditional_cached(EMBED_CACHE_SECONDS)
def embed_page(request, slug):
    """The tournament's upcoming times with places left, for other sites to frame. Only this
    page may be framed (LINEUP_EMBED_FRAME_ANCESTORS); it needs no script and sets no cookie."""
    tournament = registration_selectors.tournament_get_public_with_seats(slug=slug)
    with tournament_zone(tournament):
        days = tournament_selectors.tournament_schedule(tournament=tournament)
        upcoming = []
        for day in days:
            rooms = [
                (room.location, [s for s in room.slots if s.state != "past"]) for room in day.rooms
            ]
            rooms = [(location, slots) for location, slots in rooms if slots]
            if rooms:
                upcoming.append((day.date, rooms))
        return render(
            request,
            "opendata/embed.html",
            {
                "tournament": tournament,
                "days": upcoming,
                "is_open": tournament.registration_is_open(),
                "zone": tournament_zoneinfo(tournament).key,
            },
        )


@require_safe
@cache_control(public=True, max_age=WORDS_CACHE_SECONDS)
def embed_words(request):
    """The embed script's words in the host page's language (`?lang=fr-CA`, from its
    `<html lang>` or `data-lineup-lang`; English for a language we do not speak), from the
    same catalogues as our pages. "%(places)s" stands for the number; `places_left` has the
    forms of Intl.PluralRules (one, other)."""
    try:
        language = translation.get_supported_language_variant(request.GET.get("lang", "")[:20])
    except LookupError:
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        one, other = (
            ngettext("%(places)s place left", "%(places)s places left", n) for n in (1, 2)
        )
        words = {
            "lang": language,
            "loading": gettext("Loading times…"),
            "full": gettext("Full"),
            "not_available": gettext("Not available"),
            "places_left": {"one": one, "other": other},
            "no_upcoming": gettext("No upcoming times."),
            "times_in": gettext("Times in %(zone)s."),
            "see_on_lineup": gettext("See the times on Lineup"),
        }
    response = JsonResponse(words)
    response["Vary"] = "Accept-Encoding"  # the language is in the address, not a header
    return response
