"""Public tournament pages: the list, one tournament's schedule, the printable day schedule."""

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited
from django_ratelimit.exceptions import Ratelimited

from common.text import fold, typed_text
from common.times import day_pick
from participants import selectors as participant_selectors
from registrations import selectors as registration_selectors
from tournaments import selectors

PAGE_SIZE = 12


def _festival_search(request):
    """(query, people) for the home page's "find yourself" box; the search is rate limited
    like the per-tournament one (the list itself is not)."""
    query = typed_text(request.GET.get("q"), limit=participant_selectors.MAX_QUERY_LENGTH)
    if not query:
        return "", None
    if is_ratelimited(
        request,
        group="search",
        key="ip",
        rate=settings.LINEUP_RATE_SEARCH,
        method=ALL,
        increment=True,
    ):
        raise Ratelimited()
    if len(fold(query)) < participant_selectors.MIN_QUERY_LENGTH:
        return query, None
    return registration_selectors.festival_search(query=query)


@require_safe
def tournament_list_page(request):
    find_query, people = _festival_search(request)
    filterset = registration_selectors.tournament_list_with_places(data=request.GET)
    valid = not filterset.is_bound or filterset.is_valid()
    tournaments = filterset.qs if valid else filterset.queryset.none()
    page = Paginator(tournaments, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tournaments/tournament_list.html",
        {
            "filter": filterset,
            "page": page,
            "filtered": any(v for k, v in request.GET.items() if k not in ("page", "q")),
            "find_query": find_query,
            "people": people,
            "too_short": bool(find_query) and people is None,
            "query": query.urlencode(),
            "now": timezone.now(),
        },
    )


def _only_open(days):
    """The schedule without the times that cannot be taken (days and rooms left empty go)."""
    kept = []
    for day in days:
        rooms = [room for room in day.rooms if room.open_count]
        for room in rooms:
            room.slots = [s for s in room.slots if s.selectable]
        if rooms:
            day.rooms = rooms
            kept.append(day)
    return kept


@require_safe
def tournament_page(request, slug):
    tournament = registration_selectors.tournament_get_public_with_seats(slug=slug)
    days = selectors.tournament_schedule(tournament=tournament)
    is_open = tournament.registration_is_open()
    open_slots = [s for d in days for r in d.rooms for s in r.slots if s.selectable]
    # On a phone the open times sit below rooms of full ones: the next one first, and a filter.
    next_open = min(open_slots, key=lambda s: s.starts_at) if is_open and open_slots else None
    only_open = request.GET.get("open") == "1"
    return render(
        request,
        "tournaments/tournament_detail.html",
        {
            "tournament": tournament,
            "days": _only_open(days) if only_open else days,
            "is_open": is_open,
            "is_full": selectors.tournament_is_full(tournament),
            "next_open": next_open,
            "only_open": only_open,
            "open_count": len(open_slots),
            "now": timezone.now(),
        },
    )


# How often the venue screen reloads itself (a meta refresh: works without JavaScript).
SCHEDULE_REFRESH_SECONDS = 60


@require_safe
def schedule_page(request, slug):
    tournament = selectors.tournament_get_public(slug=slug)
    days = selectors.tournament_days(tournament=tournament)
    rooms = selectors.tournament_rooms(tournament=tournament)
    day = day_pick(request.GET.get("day"), days)
    room = next((r for r in rooms if str(r.pk) == request.GET.get("room")), None)
    schedule = (
        registration_selectors.day_schedule(tournament=tournament, day=day, location=room)
        if day
        else []
    )
    return render(
        request,
        "tournaments/tournament_schedule.html",
        {
            "tournament": tournament,
            "days": days,
            "day": day,
            "rooms": rooms,
            "room": room,
            "schedule": schedule,
            "refresh_seconds": SCHEDULE_REFRESH_SECONDS,
        },
    )


# The venue screen fetches itself this often (by script: no meta refresh).
SCREEN_REFRESH_SECONDS = 30


@require_safe
def screen_page(request, slug):
    """For a TV at the door: per room, who is on now and who is next, in large type."""
    tournament = selectors.tournament_get_public(slug=slug)
    return render(
        request,
        "tournaments/tournament_screen.html",
        {
            "tournament": tournament,
            "rooms": registration_selectors.venue_screen(tournament=tournament),
            "now": timezone.now(),
            "refresh_seconds": SCREEN_REFRESH_SECONDS,
        },
    )
