"""The public "find yourself" search, scoped to the tournament being signed up for."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django_ratelimit.decorators import ratelimit

from common.text import typed_text
from participants import selectors
from registrations.selectors import entrant_search
from tournaments import selectors as tournament_selectors


def _search_rate(group, request):
    return settings.LINEUP_RATE_SEARCH


@require_safe
@ratelimit(key="ip", rate=_search_rate, method="GET", group="search")
def find_yourself_page(request, slug):
    tournament = tournament_selectors.tournament_get_public(slug=slug)
    query = typed_text(request.GET.get("q"), limit=selectors.MAX_QUERY_LENGTH)
    results = entrant_search(tournament=tournament, query=query) if query else None
    for item in results or ():
        item.shown_name = (
            item.name
            if tournament.is_team_event
            else item.public_name(full=tournament.public_full_names)
        )
    slot = tournament_selectors.slot_get_for_tournament(
        tournament=tournament, pk=request.GET.get("slot")
    )
    return render(
        request,
        "participants/participant_search.html",
        {
            "tournament": tournament,
            "query": query,
            "results": results,
            "too_short": bool(query) and len(query) < selectors.MIN_QUERY_LENGTH,
            "slot": slot,
            "full_names": tournament.public_full_names,
            "is_open": tournament.registration_is_open(),
        },
    )
