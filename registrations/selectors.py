"""Reads of registrations for the public pages, and the reads of the other apps' pages that
need the entries: places taken and left, who is already entered, who is booked when.

Like the selectors below them, each runs a fixed number of queries (tests count them).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.db.models import Exists, IntegerField, OuterRef, Prefetch, Q, Subquery, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from participants import selectors as participant_selectors
from participants.models import Participant
from participants.selectors import SearchResults
from registrations.models import Registration, RegistrationMember, WaitlistEntry
from registrations.rules import first_clash
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
    "version",  # the .ics sequence (registrations/calendars.py)
    "updated_at",
    "tournament_id",
    "tournament__name",
    "tournament__slug",
    "tournament__entry_kind",
    "tournament__status",
    "tournament__deleted_at",
    "tournament__time_zone",
    "tournament__registration_opens_at",
    "tournament__registration_closes_at",
    "tournament__max_participants",
    "tournament__public_full_names",
    "tournament__organizer_name",
    "tournament__organizer_email",
    "tournament__organizer_phone",
    "tournament__arrival_notes",
    "tournament__what_to_bring",
    "short_reference",
    "version",
    "slot_id",
    "slot__starts_at",
    "slot__ends_at",
    "slot__location_id",
    "slot__location__name",
    "slot__location__building",
    "slot__location__address",
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


def waitlist_entry_get_by_reference(*, reference: str) -> WaitlistEntry:
    """The waitlist entry behind a private link, with its place in line (`position`) and its
    open offer's registration (`offer`), or Http404 (the same for every kind of miss)."""
    if not _REFERENCE.match(reference or ""):
        raise Http404("No such waitlist entry.")
    try:
        entry = WaitlistEntry.objects.select_related(
            "tournament", "slot__location", "registration__slot__location"
        ).get(
            reference=reference,
            tournament__deleted_at__isnull=True,
            tournament__status__in=PUBLIC_STATUSES,
        )
    except WaitlistEntry.DoesNotExist:
        raise Http404("No such waitlist entry.") from None
    entry.place_in_line = waitlist_position(entry)
    entry.offer = entry.registration if entry.status == WaitlistEntry.Status.OFFERED else None
    return entry


def registration_is_waitlist_offer(*, registration_id: UUID) -> bool:
    """Whether a registration is the place a waitlist offer holds."""
    return WaitlistEntry.objects.filter(registration_id=registration_id).exists()


def waitlist_position(entry: WaitlistEntry) -> int | None:
    """Where a waiting entry stands: 1 + the waiting entries ahead of it that compete for the
    same places (its slot's list and the "any time" list; for "any time", the whole list)."""
    if entry.status != WaitlistEntry.Status.WAITING:
        return None
    ahead = WaitlistEntry.objects.filter(
        tournament_id=entry.tournament_id, status=WaitlistEntry.Status.WAITING
    ).filter(
        Q(position__lt=entry.position) | Q(position=entry.position, created_at__lt=entry.created_at)
    )
    if entry.slot_id is not None:
        ahead = ahead.filter(Q(slot_id=entry.slot_id) | Q(slot__isnull=True))
    return ahead.count() + 1


def registration_people(*, registration: Registration) -> tuple[UUID, ...]:
    """The listed people an entry holds (the person, or the team's listed members)."""
    ids = set(
        RegistrationMember.objects.filter(
            registration_id=registration.pk, participant_id__isnull=False
        ).values_list("participant_id", flat=True)
    )
    if registration.participant_id:
        ids.add(registration.participant_id)
    return tuple(sorted(ids))


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


# --- what a sign-up or a change of time can take -------------------------------------------


@dataclass
class SlotOffer:
    """A time shown on the sign-up form or the change-of-time page, and why it cannot be
    taken ("" if it can). `too_small` marks a refusal by size alone, which unticking team
    members can lift (the page's script re-checks it with `slot.remaining`)."""

    slot: Slot
    reason: str = ""
    too_small: bool = False

    @property
    def available(self) -> bool:
        return not self.reason


def slot_offers(
    *,
    tournament: Tournament,
    slots: list[Slot],
    who: str,
    person_ids: tuple[UUID, ...] = (),
    team_id: UUID | None = None,
    seats: int = 1,
    moving: Registration | None = None,
) -> tuple[list[SlotOffer], str]:
    """Each of `slots` (open, not started) with the reason the engine would refuse it for this
    entry: too small for its `seats`, a clash with another booking of its people (the
    changeover between rooms included), or the tournament's cap (not for a `moving` entry,
    whose places are counted already). Also returns the cap's reason, for the page's top.

    The engine decides again under lock; this only keeps the page from offering what it
    would refuse. At most two queries: the people's bookings around these times, the cap.
    """
    cap_reason = ""
    if tournament.max_participants is not None and moving is None:
        left = max(
            tournament.max_participants - tournament_places_taken(tournament_id=tournament.pk), 0
        )
        if left < seats:
            cap_reason = (
                gettext("Every place in %(tournament)s is taken.") % {"tournament": tournament.name}
                if not left
                else ngettext(
                    "%(tournament)s has %(left)d place left; this entry needs %(seats)d.",
                    "%(tournament)s has %(left)d places left; this entry needs %(seats)d.",
                    left,
                )
                % {"tournament": tournament.name, "left": left, "seats": seats}
            )
    others: list[Registration] = []
    changeover = 0
    if slots and (person_ids or team_id):
        # The public row carries it (a read of its own where the caller's row defers it).
        changeover = tournament.changeover_minutes
        window = timedelta(minutes=24 * 60)
        held = Q(participant_id__in=person_ids) | Q(members__participant_id__in=person_ids)
        if team_id:
            held |= Q(team_id=team_id)
        found = (
            Registration.objects.active()
            .filter(held, slot__isnull=False)
            .filter(
                slot__starts_at__lt=max(s.ends_at for s in slots) + window,
                slot__ends_at__gt=min(s.starts_at for s in slots) - window,
            )
            .select_related("slot", "tournament")
            .only(
                "pk",
                "slot__starts_at",
                "slot__ends_at",
                "slot__location_id",
                "tournament__changeover_minutes",
            )
            .distinct()
        )
        if moving is not None:
            found = found.exclude(pk=moving.pk)
        others = list(found)
    offers = []
    for slot in slots:
        if moving is not None and slot.pk == moving.slot_id:
            continue
        if cap_reason:
            offers.append(SlotOffer(slot, gettext("No places left in the tournament")))
        elif slot.remaining < seats:
            too_small = slot.remaining > 0
            reason = (
                ngettext(
                    "%(left)d place left; your team needs %(seats)d",
                    "%(left)d places left; your team needs %(seats)d",
                    slot.remaining,
                )
                % {"left": slot.remaining, "seats": seats}
                if too_small
                else gettext("Full")
            )
            offers.append(SlotOffer(slot, reason, too_small=too_small))
        elif first_clash(slot, others, changeover_minutes=changeover) is not None:
            clash = gettext("%(who)s has another booking at about this time") % {"who": who}
            offers.append(SlotOffer(slot, clash))
        else:
            offers.append(SlotOffer(slot))
    return offers, cap_reason


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


@dataclass
class RoomNowNext:
    """A room on the venue screen: the time running now and the next one, with names."""

    location: Location
    now: Slot | None = None
    next: Slot | None = None


def venue_screen(*, tournament: Tournament, now: datetime | None = None) -> list[RoomNowNext]:
    """Per room, today's slot running at `now` and the next one to start (blocked times
    skipped), each with its `public_names`; rooms with nothing left today drop out. Two
    queries (`day_schedule`)."""
    now = now or timezone.now()
    rooms = []
    for room in day_schedule(tournament=tournament, day=timezone.localdate(now)):
        slots = [s for s in room.slots if s.status != Slot.Status.BLOCKED]
        running = next((s for s in slots if s.starts_at <= now < s.ends_at), None)
        coming = next((s for s in slots if s.starts_at > now), None)
        if running or coming:
            rooms.append(RoomNowNext(location=room.location, now=running, next=coming))
    return rooms


def public_entrant_name(registration: Registration, *, full: bool) -> str:
    """What public pages show of an entry: a team's name, or a person's display name."""
    participant = registration.participant  # None for teams and typed names: no query
    if registration.team_id or participant is None:
        if registration.team_id or full:
            return registration.entrant_name
        return _shorten(registration.entrant_name)
    return participant.public_name(full=full)


def public_member_name(member: RegistrationMember, *, full: bool) -> str:
    """What public pages show of a team member: a listed person's display name, or a typed
    name shortened like a typed entrant's. Read `member.participant` with it (select_related)."""
    participant = member.participant
    if participant is None:
        return member.name if full else _shorten(member.name)
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
    active individual entries in public tournaments, the individual tournaments open now (a
    list every search shares, cached for a moment: `tournament_list_open_individual`). A search
    no name answers with every typed word tries again (`participant_search`).
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
    open_list = tournament_selectors.tournament_list_open_individual(
        seats_taken=_seats_taken(), now=now
    )
    for pk, person in people.items():
        person.can_enter = [t for t in open_list if t.pk not in entered.get(pk, set())]
    return results.query, list(people.values())
