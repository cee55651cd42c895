"""The read-only JSON API, version 1 (/api/v1/): published tournaments, their rooms, time
blocks and times with places left, the public schedule by day and room, published results.

It reads through the public pages' selectors, so it shows what they show and nothing more:
display names only, never a contact, a birth date or a private reference. Each answer is
cached for a few seconds with an ETag and a Last-Modified (`caching.py`), every request is
counted against the client's limit like the public pages' (django-ratelimit, shared cache),
and every refusal is JSON: 404 unknown, 422 bad parameters, 429 too many requests, 503 busy.
The OpenAPI document is generated from this module (`make openapi` writes the committed copy,
`opendata/openapi-v1.json`; a test fails when they differ).
"""

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Annotated, Any, Literal
from uuid import UUID

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited
from ninja import NinjaAPI, Query, Schema
from ninja import Path as PathParam
from ninja.decorators import decorate_view
from ninja.errors import ValidationError
from ninja.pagination import paginate
from pydantic import BeforeValidator

from common import metrics
from common.calendars import tournament_time
from common.locking import Busy
from common.times import day_pick, tournament_zone, tournament_zoneinfo
from opendata import schemas, selectors
from opendata.caching import conditional_cached
from opendata.pagination import Pages
from registrations import selectors as registration_selectors
from results import selectors as result_selectors
from tournaments import selectors as tournament_selectors
from tournaments.models import Location, Tournament

# How long an answer is served from the cache: about the public pages' tournament cache.
CACHE_SECONDS = 10

api = NinjaAPI(
    title="Lineup open data",
    version="1",
    description=__doc__,
    urls_namespace="api-v1",
    # No Swagger page: it loads its script from a CDN, which our Content-Security-Policy
    # refuses. The document itself is at /api/v1/openapi.json.
    docs_url=None,
)

ERRORS: dict[int, Any] = {
    404: schemas.Error,
    422: schemas.ValidationFailed,
    429: schemas.Error,
    503: schemas.Error,
}


class RateLimited(Exception):
    pass


def limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Counts every request (cached answers too) against the client's LINEUP_RATE_API."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_ratelimited(
            request,
            group="api",
            key="ip",
            rate=settings.LINEUP_RATE_API,
            method=ALL,
            increment=True,
        ):
            return _refused(request, RateLimited(), 429, "Too many requests: wait a minute.")
        return view(request, *args, **kwargs)

    return wrapped


# Every operation's answer is cached (ETag, Last-Modified, 304s) and counted against the
# client's limit; decorate_view applies them in order, so the limit wraps the cache and a
# cached answer counts too.
answered = decorate_view(conditional_cached(CACHE_SECONDS), limited)


def _refused(request: HttpRequest, exc: Exception, status: int, detail: str) -> HttpResponse:
    metrics.refusal_counted(exc)
    response = api.create_response(request, {"detail": detail}, status=status)
    response["Retry-After"] = "60" if status == 429 else "5"
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(Busy)
def _busy(request: HttpRequest, exc: Busy) -> HttpResponse:
    return _refused(request, exc, 503, "Busy: please try again in a few seconds.")


def _database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _refused(request, exc, 503, "Database unavailable: please try again in a few seconds.")


for _failure in (OperationalError, InterfaceError):  # config.middleware's DATABASE_UNAVAILABLE
    api.add_exception_handler(_failure, _database_unavailable)  # type: ignore[arg-type]


def _absolute(request: HttpRequest, name: str, *args: Any) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


def _room(location: Location) -> dict[str, Any]:
    return {"id": location.pk, "name": location.name, "building": location.building}


def _local(moment: Any, tournament: Tournament) -> Any:
    return tournament_time(moment, tournament) if moment else None


def _summary(request: HttpRequest, tournament: Tournament, *, places_left: int) -> dict:
    return {
        "slug": tournament.slug,
        "name": tournament.name,
        "description": tournament.description,
        "category": tournament.category,
        "entry_kind": tournament.entry_kind,
        "status": tournament.status,
        "time_zone": tournament_zoneinfo(tournament).key,
        "starts_on": tournament.starts_on,
        "ends_on": tournament.ends_on,
        "registration_opens_at": _local(tournament.registration_opens_at, tournament),
        "registration_closes_at": _local(tournament.registration_closes_at, tournament),
        "registration_open": tournament.registration_is_open(),
        "places_left": max(places_left, 0),
        "url": _absolute(request, "tournaments:detail", tournament.slug),
        "api_url": _absolute(request, "api-v1:tournament", tournament.slug),
    }


def _iso_date(value: Any) -> Any:
    """Days are written 2026-05-14: pydantic alone would also take 0 or 1.5 (as timestamps)."""
    if isinstance(value, str) and len(value) == 10:
        return value
    if value is None or isinstance(value, date):
        return value
    raise ValueError("Write the day as YYYY-MM-DD, e.g. 2026-05-14.")


Day = Annotated[date, BeforeValidator(_iso_date)]
# A tournament's address as the public pages' <slug:...> accepts it.
Slug = Annotated[str, PathParam(pattern=r"^[-a-zA-Z0-9_]+$", max_length=200)]


class TournamentFilters(Schema):
    category: Tournament.Category | None = None
    day: Day | None = None
    open_now: bool = False


@api.get(
    "/tournaments",
    response={200: list[schemas.TournamentSummary], **ERRORS},
    url_name="tournaments",
    summary="Published tournaments",
    description="Soonest first, as on the home page; filter by category, day, open now.",
)
@answered
@paginate(Pages)
def tournament_list(request: HttpRequest, filters: Query[TournamentFilters]) -> Any:
    data = {
        "category": filters.category or "",
        "day": filters.day.isoformat() if filters.day else "",
        "open_now": "on" if filters.open_now else "",
    }
    filterset = registration_selectors.tournament_list_with_places(data=data)
    if not filterset.is_valid():  # the schema checks the same: a safety net
        raise ValidationError(
            [
                {"loc": ["query", name], "msg": " ".join(errors), "type": "value_error"}
                for name, errors in filterset.errors.items()
            ]
        )
    return _LazyRows(
        filterset.qs,
        lambda t: {
            **_summary(request, t, places_left=t.places_left),
            "rooms": [_room(room) for room in t.locations.all()],
        },
    )


class _LazyRows:
    """A queryset the paginator can count and slice, whose sliced rows become dicts."""

    def __init__(self, queryset: Any, row: Callable[[Any], dict]):
        self.queryset, self.row = queryset, row

    def all(self) -> Any:
        return self.queryset.all()

    def __getitem__(self, window: slice) -> list[dict]:
        return [self.row(item) for item in self.queryset[window]]


def _public_tournament(slug: str) -> Tournament:
    return registration_selectors.tournament_get_public_with_seats(slug=slug)


@api.get(
    "/tournaments/{slug}",
    response={200: schemas.TournamentDetail, **ERRORS},
    url_name="tournament",
    summary="One tournament",
    description="With its rooms, time blocks and days; published, closed, completed or "
    "cancelled (drafts are unknown).",
)
@answered
def tournament_detail(request: HttpRequest, slug: Slug) -> Any:
    tournament = _public_tournament(slug)
    with tournament_zone(tournament):
        days = tournament_selectors.tournament_schedule(tournament=tournament)
        day_list = tournament_selectors.tournament_days(tournament=tournament)
    slots = [s for day in days for room in day.rooms for s in room.slots]
    # As the home page counts them: places in open future times, within the tournament's cap.
    places_left = sum(s.slot.remaining for s in slots if s.state == "open")
    if tournament.max_participants is not None:
        places_left = min(places_left, tournament.max_participants - tournament.seats_taken)  # type: ignore[attr-defined]
    rooms = tournament_selectors.tournament_rooms(tournament=tournament)
    has_results = selectors.results_published(tournament=tournament)
    return {
        **_summary(request, tournament, places_left=places_left),
        "rooms": [_room(room) for room in rooms],
        "is_full": tournament_selectors.tournament_is_full(tournament),
        "time_blocks": [
            {
                "id": block.pk,
                "room": _room(block.location),
                "starts_at": _local(block.starts_at, tournament),
                "ends_at": _local(block.ends_at, tournament),
                "slot_minutes": block.slot_minutes,
                "slot_capacity": block.slot_capacity,
            }
            for block in selectors.time_blocks_public(tournament=tournament)
        ],
        "days": day_list,
        "slots_url": _absolute(request, "api-v1:slots", slug),
        "schedule_url": _absolute(request, "api-v1:schedule", slug),
        "calendar_url": _absolute(request, "opendata:tournament_calendar", slug),
        "embed_url": _absolute(request, "opendata:embed", slug),
        "results_url": _absolute(request, "api-v1:results", slug) if has_results else None,
    }


class SlotFilters(Schema):
    day: Day | None = None
    room: UUID | None = None
    state: Literal["open", "full", "blocked", "past"] | None = None
    upcoming: bool = False


@api.get(
    "/tournaments/{slug}/slots",
    response={200: list[schemas.Slot], **ERRORS},
    url_name="slots",
    summary="Times with places left",
    description="Every time that is not cancelled, soonest first, with its state (open, full, "
    "blocked, past); filter by local day, room, state, or `upcoming` (not yet started).",
)
@answered
@paginate(Pages)
def slot_list(request: HttpRequest, slug: Slug, filters: Query[SlotFilters]) -> Any:
    tournament = _public_tournament(slug)
    with tournament_zone(tournament):
        days = tournament_selectors.tournament_schedule(tournament=tournament)
    sign_up = _absolute(request, "registrations:create", slug)
    open_for_sign_up = tournament.registration_is_open()
    rows = []
    for day in days:
        if filters.day and day.date != filters.day:
            continue
        for room in day.rooms:
            if filters.room and room.location.pk != filters.room:
                continue
            for view in room.slots:
                if (filters.state and view.state != filters.state) or (
                    filters.upcoming and view.state == "past"
                ):
                    continue
                rows.append((view, room.location))
    rows.sort(key=lambda row: (row[0].slot.starts_at, row[1].name, row[0].slot.number))
    return [
        {
            "id": view.slot.pk,
            "room": _room(location),
            "starts_at": _local(view.slot.starts_at, tournament),
            "ends_at": _local(view.slot.ends_at, tournament),
            "capacity": view.slot.capacity,
            "places_left": view.slot.remaining if view.state == "open" else 0,
            "state": view.state,
            "sign_up_url": f"{sign_up}?slot={view.slot.pk}"
            if view.selectable and open_for_sign_up
            else None,
        }
        for view, location in rows
    ]


@api.get(
    "/tournaments/{slug}/schedule",
    response={200: schemas.Schedule, **ERRORS},
    url_name="schedule",
    summary="The public schedule of one day",
    description="Room by room with who is booked when (display names only), as the printable "
    "schedule shows it. Without `day`: today if it has times, else the next day that does. "
    "`days` lists every day, one page each.",
)
@answered
def schedule(
    request: HttpRequest, slug: Slug, day: Day | None = None, room: UUID | None = None
) -> Any:
    tournament = tournament_selectors.tournament_get_public(slug=slug)
    with tournament_zone(tournament):
        days = tournament_selectors.tournament_days(tournament=tournament)
        if day is not None and day not in days:
            raise Http404("The tournament has no times on that day.")
        rooms = tournament_selectors.tournament_rooms(tournament=tournament)
        location = None
        if room is not None:
            location = next((r for r in rooms if r.pk == room), None)
            if location is None:
                raise Http404("The tournament has no times in that room.")
        shown = day or day_pick(None, days)
        room_days = (
            registration_selectors.day_schedule(tournament=tournament, day=shown, location=location)
            if shown
            else []
        )
    return {
        "day": shown or None,
        "days": days,
        "rooms": [
            {
                "room": _room(room_day.location),
                "slots": [
                    {
                        "id": slot.pk,
                        "starts_at": _local(slot.starts_at, tournament),
                        "ends_at": _local(slot.ends_at, tournament),
                        "capacity": slot.capacity,
                        "places_left": slot.remaining if slot.status == "open" else 0,
                        "status": slot.status,
                        "entrants": slot.public_names,
                    }
                    for slot in room_day.slots
                ],
            }
            for room_day in room_days
        ],
    }


@api.get(
    "/tournaments/{slug}/results",
    response={200: schemas.Results, **ERRORS},
    url_name="results",
    summary="Published results: prizes and their winners",
    description="404 until the organizers publish the results.",
)
@answered
def results(request: HttpRequest, slug: Slug) -> Any:
    tournament = result_selectors.results_public_get(slug=slug)
    standings = result_selectors.tournament_standings(tournament=tournament, public=True)
    winners = result_selectors.tournament_winners(tournament=tournament, standings=standings)
    return {
        "tournament": tournament.name,
        "published_at": _local(tournament.result_sheet.published_at, tournament),
        "prizes": [
            {
                "name": w.prize.name,
                "place": w.prize.place,
                "winners": [s.name for s in w.winners],
            }
            for w in winners
        ],
        "standings_url": _absolute(request, "api-v1:standings", slug),
    }


@api.get(
    "/tournaments/{slug}/results/standings",
    response={200: list[schemas.Standing], **ERRORS},
    url_name="standings",
    summary="Published standings",
    description="Placed entries by place and tie-break, then those without a place, as on "
    "the public results page (display names only).",
)
@answered
@paginate(Pages)
def standings(request: HttpRequest, slug: Slug) -> Any:
    tournament = result_selectors.results_public_get(slug=slug)
    return [
        {
            "rank": s.rank,
            "name": s.name,
            "members": s.members,
            "place": s.place,
            "score": s.score,
            "penalties": s.penalties,
            "points": s.points,
            "decided_by": s.decided_by,
            "corrected": s.corrected,
        }
        for s in result_selectors.tournament_standings(tournament=tournament, public=True)
    ]
