"""Reads of registrations for the public pages, and the reads of the other apps' pages that
need the entries: places taken and left, who is already entered, who is booked when.

Like the selectors below them, each runs a fixed number of queries (tests count them).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.db.models import Exists, IntegerField, OuterRef, Prefetch, Subquery, Sum
from django.http import Http404
from django.utils import timezone

from participants import selectors as participant_selectors
from participants.models import Participant
from participants.selectors import SearchResults
from registrations.models import Registration, RegistrationMember
from tournaments import selectors as tournament_selectors
from tournaments.filters import TournamentFilter
from tournaments.models import Location, Slot, Tournament
from tournaments.selectors import PUBLIC_STATUSES, RoomDay

# What `new_reference` makes (token_urlsafe): anything else cannot exist, so skip the query.
_REFERENCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


# What the private page shows; the services read the registration afresh under lock.
_DETAIL_FIELDS = (
    "pk",
    "reference",
    "status",
    "entrant_name",
    "seats",
    "team_id",
    "participant_id",
    "contact_email",
    "hold_expires_at",
    "cancelled_at",
    "tournament_id",
    "tournament__name",
    "tournament__slug",
    "tournament__entry_kind",
    "tournament__status",
    "tournament__deleted_at",
    "tournament__time_zone",
    "slot_id",
    "slot__starts_at",
    "slot__ends_at",
    "slot__location_id",
    "slot__location__name",
    "slot__location__building",
)


# Built once (every confirmation page runs it); `get` works on a copy.
_PUBLIC_REGISTRATIONS = (
    Registration.objects.select_related("tournament", "slot__location")
    .only(*_DETAIL_FIELDS)
    .filter(tournament__deleted_at__isnull=True, tournament__status__in=PUBLIC_STATUSES)
)


def registration_get_by_reference(*, reference: str) -> Registration:
    """The registration behind a private reference link, or Http404.

    Unknown, malformed and foreign references (a tournament that is draft or deleted) all
    raise the same Http404, so the answer tells nothing about which it was.
    """
    if not _REFERENCE.match(reference or ""):
        raise Http404("No such registration.")
    try:
        registration = _PUBLIC_REGISTRATIONS.get(reference=reference)
    except Registration.DoesNotExist:
        raise Http404("No such registration.") from None
    # Only team entries have members: individual pages skip the query.
    registration.member_list = (
        list(RegistrationMember.objects.filter(registration=registration).order_by("name"))
        if registration.tournament.is_team_event
        else []
    )
    return registration


def registration_reference_for_key(*, idempotency_key: str) -> tuple | None:
    """(reference, tournament id) of the registration a form's token already made, if any."""
    return (
        Registration.objects.filter(idempotency_key=idempotency_key)
        .values_list("reference", "tournament_id")
        .first()
    )


# --- places taken and left -------------------------------------------------------------------


def tournament_places_taken(*, tournament_id: UUID | str) -> int:
    """Places held by the tournament's active entries (a team takes one per member): what its
    participant cap counts."""
    return (
        Registration.objects.active()
        .filter(tournament_id=tournament_id)
        .aggregate(n=Sum("seats"))["n"]
        or 0
    )


def _seats_taken() -> Subquery:
    """The same sum, as SQL over the tournament of the outer query (`OuterRef("pk")`)."""
    return Subquery(
        Registration.objects.active()
        .filter(tournament_id=OuterRef("pk"))
        .order_by()
        .values("tournament_id")
        .annotate(n=Sum("seats"))
        .values("n"),
        output_field=IntegerField(),
    )


def tournament_list_with_places(
    *, data: Mapping[str, str] | None, now: datetime | None = None
) -> TournamentFilter:
    """The public tournament list (`tournaments.selectors.tournament_list_public`), each with
    the `places_left` its cap leaves after the places taken."""
    return tournament_selectors.tournament_list_public(
        data=data, seats_taken=_seats_taken(), now=now
    )


def tournament_get_public_with_seats(*, slug: str) -> Tournament:
    """A public tournament with its `seats_taken`, read afresh (never from the cache), for the
    pages that show whether it is full (`tournaments.selectors.tournament_is_full`)."""
    return tournament_selectors.tournament_get_public(slug=slug, seats_taken=_seats_taken())


# --- who is already entered ------------------------------------------------------------------


def entrant_search(*, tournament: Tournament, query: str) -> SearchResults:
    """The sign-up "find yourself" search: teams for a team event, else participants, each
    marked `already_entered` when it holds an active entry in `tournament`."""
    field = "team_id" if tournament.is_team_event else "participant_id"
    already_entered = Exists(
        Registration.objects.active().filter(tournament_id=tournament.pk, **{field: OuterRef("pk")})
    )
    if tournament.is_team_event:
        # A team with nobody listed can enter only where members may be typed in.
        return participant_selectors.team_search(
            query=query,
            annotations={"already_entered": already_entered},
            with_members_only=not tournament.allows_typed_names,
        )
    return participant_selectors.participant_search(
        query=query, annotations={"already_entered": already_entered}
    )


# --- the printable day schedule --------------------------------------------------------------


def day_schedule(
    *, tournament: Tournament, day: date, location: Location | None = None
) -> list[RoomDay]:
    """Slots of one local day (optionally one room) with the display names booked in each.

    Names follow the tournament's choice: full names, or first name and last initial. Two
    queries whatever the size of the day.
    """
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    slots = (
        Slot.objects.filter(
            tournament_id=tournament.pk,
            starts_at__gte=start,
            starts_at__lt=start + timedelta(days=1),
        )
        .exclude(status=Slot.Status.CANCELLED)
        .select_related("location")
        .prefetch_related(
            Prefetch(
                "registrations",
                queryset=Registration.objects.active()
                .select_related("participant")
                .only(
                    "pk",
                    "slot_id",
                    "entrant_name",
                    "team_id",
                    "status",
                    "participant__first_name",
                    "participant__last_name",
                    "participant__display_name",
                )
                .order_by("created_at"),
                to_attr="active_registrations",
            )
        )
        .order_by("location__name", "starts_at", "number")
    )
    if location is not None:
        slots = slots.filter(location_id=location.pk)
    full = tournament.public_full_names
    rooms: dict[UUID, RoomDay] = {}
    for slot in slots:
        slot.public_names = [public_entrant_name(r, full=full) for r in slot.active_registrations]  # type: ignore[attr-defined]
        rooms.setdefault(slot.location_id, RoomDay(location=slot.location)).slots.append(slot)
    return list(rooms.values())


def public_entrant_name(registration: Registration, *, full: bool) -> str:
    """What public pages show of an entry: a team's name, or a person's display name."""
    participant = registration.participant  # None for teams and typed names: no query
    if registration.team_id or participant is None:
        if registration.team_id or full:
            return registration.entrant_name
        return _shorten(registration.entrant_name)
    return participant.public_name(full=full)


def _shorten(name: str) -> str:
    """A typed "Zoë Núñez" becomes "Zoë N.", like a listed participant's default."""
    parts = name.split()
    if len(parts) < 2:
        return name
    return f"{' '.join(parts[:-1])} {parts[-1][:1]}."


# --- the festival-wide "find yourself" -------------------------------------------------------


@dataclass
class FestivalPerson:
    """One person found across the festival: the tournaments they are in (time and room) and
    those they can still enter (open now, places left, not yet entered)."""

    participant: Participant
    entered: list[Registration] = field(default_factory=list)
    can_enter: list[Tournament] = field(default_factory=list)


def festival_search(*, query: str, now: datetime | None = None) -> tuple[str, list[FestivalPerson]]:
    """The home page's search over every published tournament: one result per person, with
    public fields only (as `participant_search`), at most `SEARCH_LIMIT` people.

    Three queries whatever the number of tournaments or matches: the search, the people's
    active individual entries in public tournaments, the individual tournaments open now.
    """
    results = participant_selectors.participant_search(query=query)
    if not results:
        return results.query, []
    people = {p.pk: FestivalPerson(participant=p) for p in results}
    entries = (
        Registration.objects.active()
        .filter(
            participant_id__in=people,
            tournament__status__in=PUBLIC_STATUSES,
            tournament__deleted_at__isnull=True,
        )
        .select_related("tournament", "slot__location")
        .only(
            "pk",
            "participant_id",
            "tournament_id",
            "tournament__name",
            "tournament__slug",
            "tournament__time_zone",
            "slot__starts_at",
            "slot__ends_at",
            "slot__location__name",
        )
        .order_by("slot__starts_at", "tournament__name")
    )
    entered: dict[UUID, set[UUID]] = {}
    for registration in entries:
        people[registration.participant_id].entered.append(registration)
        entered.setdefault(registration.participant_id, set()).add(registration.tournament_id)
    open_now = tournament_list_with_places(data={"open_now": "on"}, now=now).qs.filter(
        entry_kind=Tournament.EntryKind.INDIVIDUAL, places_left__gt=0
    )
    open_list = list(open_now.prefetch_related(None))
    for pk, person in people.items():
        person.can_enter = [t for t in open_list if t.pk not in entered.get(pk, set())]
    return results.query, list(people.values())
