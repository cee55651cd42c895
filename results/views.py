"""Public results: standings and winners once published (display names only, as the other
public pages), printable, and as CSV."""

import csv

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from results import selectors
from results.leaderboards import Leaderboards, series_leaderboards
from results.models import Series

CSV_COLUMNS = ["rank", "place", "name", "members", "score", "penalties", "points", "tie-break"]


@require_safe
def results_page(request, slug):
    tournament = selectors.results_public_get(slug=slug)
    standings = selectors.tournament_standings(tournament=tournament, public=True)
    return render(
        request,
        "results/results_detail.html",
        {
            "tournament": tournament,
            "sheet": tournament.result_sheet,
            "standings": standings,
            "winners": selectors.tournament_winners(
                tournament=tournament, standings=standings, public=True
            ),
        },
    )


@require_safe
def results_csv(request, slug):
    tournament = selectors.results_public_get(slug=slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{tournament.slug}-results.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for s in selectors.tournament_standings(tournament=tournament, public=True):
        writer.writerow(
            [
                s.rank,
                s.place or "",
                s.name,
                "; ".join(s.members),
                "" if s.score is None else s.score,
                "" if s.penalties is None else s.penalties,
                s.points,
                s.decided_by,
            ]
        )
    return response


PER_PAGE = 100  # rows of each ranking on a page of the leaderboard


def _published_leaderboards(slug: str, **page) -> Leaderboards:
    series = get_object_or_404(Series, slug=slug)
    boards = series_leaderboards(series=series, public=True, **page)
    if not boards.tournaments:  # nothing published yet: as unknown as a draft result
        raise Http404("No published results in this series.")
    return boards


@require_safe
def leaderboard_page(request, slug):
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    boards = _published_leaderboards(slug, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    shown = page * PER_PAGE
    return render(
        request,
        "results/leaderboard.html",
        {
            "boards": boards,
            "page": page,
            "first_row": (page - 1) * PER_PAGE + 1,
            "previous_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if any(r.total_rows > shown for r in boards.rankings) else None,
        },
    )


@require_safe
def leaderboard_csv(request, slug):
    """Every row of the three rankings, each with how its points were made."""
    boards = _published_leaderboards(slug, limit=None)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-leaderboard.csv"'
    writer = csv.writer(response)
    writer.writerow(["ranking", "rank", "name", "points", "made of"])
    for ranking in boards.rankings:
        for row in ranking.rows:
            made_of = "; ".join(f"{name}: {points}" for name, points in row.parts)
            writer.writerow([ranking.title, row.rank, row.name, row.points, made_of])
    return response
