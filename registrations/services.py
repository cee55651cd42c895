"""The reservation engine: every change to a registration goes through these functions.

Each function is one short transaction (`locked_atomic`: READ COMMITTED, bounded lock waits
that become `Busy`) that writes its AuditEvent in that same transaction; e-mail goes out only
after commit. Locks are taken late, once, several rows in one query in primary-key order, and
always in the order participant → slot → registration → tournament, so no two operations can
deadlock. After locking, every counter changes through a conditional F-expression UPDATE with
a version check whose row count is verified; the database constraints stand behind it.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, F, UUIDField, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.formats import date_format

from participants.models import Participant, Team
from registrations.models import AuditEvent, Registration, RegistrationMember
from tournaments.errors import LineupError
from tournaments.locking import Busy, locked_atomic
from tournaments.models import MAX_CHANGEOVER_MINUTES, Slot, Tournament
from tournaments.selectors import tournament_places_taken

logger = logging.getLogger(__name__)

ACTIVE = Registration.ACTIVE_STATUSES
Status = Registration.Status


class RegistrationError(LineupError):
    """A registration rule refused the change; `message` is fit to show to the person."""

    message = "This registration could not be completed."


class TournamentNotOpen(RegistrationError):
    message = "This tournament is not open for sign-up."


class TournamentFull(RegistrationError):
    message = "This tournament has no places left."


class SlotUnavailable(RegistrationError):
    message = "This slot is not available."


class SlotFull(RegistrationError):
    message = "This slot is full."


class AlreadyRegistered(RegistrationError):
    message = "Already signed up for this tournament."


class ScheduleClash(RegistrationError):
    message = "Already booked in another slot at an overlapping time."

    def __init__(self, message=None, *, clashing=None):
        super().__init__(message)
        self.clashing = clashing


class InvalidEntry(RegistrationError):
    message = "This entry is not complete."


class StatusConflict(RegistrationError):
    message = "This registration cannot be changed that way in its current state."


class ConcurrentChange(RegistrationError):
    message = "Someone else changed this registration at the same moment. Reload and try again."


# --- audit -----------------------------------------------------------------------------------


def audit_event_record(*, actor, action, target, tournament=None, **payload) -> AuditEvent:
    """Write one audit event; callers do it inside the transaction that makes the change."""
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        target_type=target._meta.model_name,
        target_id=target.pk,
        tournament_id=tournament.pk if tournament else getattr(target, "tournament_id", None),
        payload=payload,
    )


# --- who is entering -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """The people behind an entry, resolved before any lock is taken."""

    name: str
    seats: int
    participant_id: object = None
    team_id: object = None
    person_ids: tuple = ()
    members: tuple = field(default=())  # (participant_id or None, name) for team entries

    def held_ids_sql(self):
        """SQL (and params) for the ids of registrations that hold these people or this team.

        A `UNION` of index lookups rather than an OR across the members join, which
        PostgreSQL can only answer by reading every active registration: the checks cost the
        same with ten registrations or a million. Written as SQL because it sits inside the
        statement that holds the slot's lock, where the ORM's query building was most of a
        reservation's CPU (bench/RESULTS.md). Returns None when nobody is known.
        """
        registration_table = Registration._meta.db_table
        member_table = RegistrationMember._meta.db_table
        parts, params = [], []
        if self.person_ids:
            people = ", ".join(["%s"] * len(self.person_ids))
            ids = [_db_uuid(pk) for pk in self.person_ids]
            parts.append(f"SELECT id FROM {registration_table} WHERE participant_id IN ({people})")
            parts.append(
                f"SELECT registration_id FROM {member_table} WHERE participant_id IN ({people})"
            )
            params += ids + ids
        if self.team_id:
            parts.append(f"SELECT id FROM {registration_table} WHERE team_id = %s")
            params.append(_db_uuid(self.team_id))
        if not parts:
            return None
        return " UNION ".join(parts), params

    def active_registrations(self, exclude_id=None):
        """Active registrations that hold any of these people (or this team), or None."""
        held = self.held_ids_sql()
        if held is None:
            return None
        registrations = Registration.objects.filter(pk__in=RawSQL(*held), status__in=ACTIVE)
        return registrations.exclude(pk=exclude_id) if exclude_id else registrations

    def checks(self, *, tournament_column, idempotency_key, placed):
        """Annotations answering, for the row being locked, every question about the entry:
        a replayed idempotency key, an entry already in this tournament, and (when `placed` in
        a slot) bookings in other tournaments that need the clash check.
        """
        registration_table = Registration._meta.db_table
        active = ", ".join(["%s"] * len(ACTIVE))
        checks = {
            "replay_id": RawSQL(
                f"SELECT id FROM {registration_table} WHERE idempotency_key = %s",
                [idempotency_key],
                output_field=UUIDField(),
            )
            if idempotency_key
            else Value(None, output_field=UUIDField()),
            "already_entered": Value(False),
            "booked_elsewhere": Value(False),
        }
        held = self.held_ids_sql()
        if held is None:
            return checks
        held_sql, held_params = held
        entered = (
            f"SELECT 1 FROM {registration_table} r WHERE r.id IN ({held_sql}) "
            f"AND r.status IN ({active})"
        )
        checks["already_entered"] = RawSQL(
            f"EXISTS ({entered} AND r.tournament_id = {tournament_column})",
            [*held_params, *ACTIVE],
            output_field=BooleanField(),
        )
        if placed:
            checks["booked_elsewhere"] = RawSQL(
                f"EXISTS ({entered} AND r.slot_id IS NOT NULL "
                f"AND r.tournament_id <> {tournament_column})",
                [*held_params, *ACTIVE],
                output_field=BooleanField(),
            )
        return checks


def _db_uuid(value):
    """A UUID as the database stores it (native on PostgreSQL, hex text on SQLite)."""
    return Registration._meta.pk.get_db_prep_value(value, connection)


def _entry_for(*, tournament, participant, team, members, entrant_name) -> _Entry:
    entrant_name = (entrant_name or "").strip()
    if tournament.is_team_event:
        if team is not None and not members:
            members = list(team.members.all())  # a coach books the whole team by default
        if participant is not None:
            raise InvalidEntry(
                f"{tournament.name} is a team event: sign up a team, not one person."
            )
        names: list[tuple] = []
        for member in members:
            if isinstance(member, Participant):
                if team is not None and member.team_id != team.pk:
                    raise InvalidEntry(f"{member.full_name} is not a member of {team.name}.")
                names.append((member.pk, member.full_name))
            elif str(member).strip():
                if not tournament.allows_typed_names:
                    raise InvalidEntry("Pick team members from the list for this tournament.")
                names.append((None, str(member).strip()))
        if team is None and not entrant_name:
            raise InvalidEntry("Choose a team or type the team's name.")
        if team is None and not tournament.allows_typed_names:
            raise InvalidEntry("Pick a team from the list for this tournament.")
        if not names:
            raise InvalidEntry("A team entry needs at least one member.")
        person_ids = [pid for pid, _ in names if pid is not None]
        if len(set(person_ids)) != len(person_ids):
            raise InvalidEntry("The same person is listed twice in this team.")
        return _Entry(
            name=team.name if team else entrant_name,
            seats=len(names),
            team_id=team.pk if team else None,
            person_ids=tuple(sorted(person_ids)),
            members=tuple(names),
        )
    if team is not None or members:
        raise InvalidEntry(f"{tournament.name} is for individuals: sign up one person.")
    if participant is not None:
        return _Entry(
            name=participant.full_name,
            seats=1,
            participant_id=participant.pk,
            person_ids=(participant.pk,),
        )
    if not entrant_name:
        raise InvalidEntry("Choose a participant or type their name.")
    if not tournament.allows_typed_names:
        raise InvalidEntry("Only listed participants can sign up for this tournament.")
    return _Entry(name=entrant_name, seats=1)


def _entry_of(registration) -> _Entry:
    members = tuple(registration.members.values_list("participant_id", "name"))
    person_ids = {pid for pid, _ in members if pid}
    if registration.participant_id:
        person_ids.add(registration.participant_id)
    return _Entry(
        name=registration.entrant_name,
        seats=registration.seats,
        participant_id=registration.participant_id,
        team_id=registration.team_id,
        person_ids=tuple(sorted(person_ids)),
        members=members,
    )


def _lock_people(entry):
    if entry.person_ids:
        locked = list(
            Participant.objects.select_for_update()
            .filter(pk__in=entry.person_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if len(locked) != len(entry.person_ids):
            raise InvalidEntry("A participant in this entry no longer exists.")


# --- rule checks (run after locking) ---------------------------------------------------------


def _local(moment):
    return date_format(timezone.localtime(moment), "D j M, H:i")


def _check_open(tournament, now):
    if tournament.status != Tournament.Status.PUBLISHED or tournament.deleted_at is not None:
        raise TournamentNotOpen(f"{tournament.name} is not open for sign-up.")
    opens, closes = tournament.registration_opens_at, tournament.registration_closes_at
    if opens and now < opens:
        raise TournamentNotOpen(f"Sign-up for {tournament.name} opens {_local(opens)}.")
    if closes and now >= closes:
        raise TournamentNotOpen(f"Sign-up for {tournament.name} closed {_local(closes)}.")


def _check_slot(slot, now, *, override):
    if slot.status == Slot.Status.CANCELLED:
        raise SlotUnavailable("This slot was cancelled. Please choose another one.")
    if override:
        return
    if slot.status == Slot.Status.BLOCKED:
        raise SlotUnavailable("This slot is not available. Please choose another one.")
    if slot.starts_at <= now:
        raise SlotUnavailable("This slot has already started. Please choose a later one.")


def _check_no_clash(entry, slot, *, exclude_id=None):
    """Refuse a slot that overlaps another booking of the same people.

    Slots in different rooms also need the larger of the two tournaments' changeover times
    between them. Runs only while the people's rows are locked, so nobody can book them
    meanwhile.
    """
    held = entry.active_registrations(exclude_id=exclude_id)
    if held is None:
        return  # typed names only: nobody on the list to double-book
    window = timedelta(minutes=MAX_CHANGEOVER_MINUTES)
    others = (
        held.filter(
            slot__isnull=False,
            slot__starts_at__lt=slot.ends_at + window,
            slot__ends_at__gt=slot.starts_at - window,
        )
        .select_related("slot__location", "tournament")
        .distinct()
    )
    for other in others:
        changeover = max(other.tournament.changeover_minutes, slot.tournament.changeover_minutes)
        if other.slot.clashes_with(slot, changeover_minutes=changeover):
            too_close = changeover and other.slot.location_id != slot.location_id
            raise ScheduleClash(
                f"{entry.name} is already booked at an overlapping time"
                + (" (or too close, in another room)." if too_close else "."),
                clashing=other,
            )


def _claim_places(slot, seats, *, override, now):
    """Take `seats` places in a locked slot; an override raises the capacity to fit.

    Returns the places added to the capacity (0 unless overridden).
    """
    shortfall = max(slot.reserved_count + seats - slot.capacity, 0)
    if shortfall and not override:
        if slot.remaining:
            raise SlotFull(
                f"Only {slot.remaining} place(s) left in this slot; this entry needs {seats}."
            )
        raise SlotFull("This slot just filled up. Please choose another one.")
    changes = {"capacity": F("capacity") + shortfall} if shortfall else {}
    updated = Slot.objects.filter(
        pk=slot.pk,
        version=slot.version,
        reserved_count__lte=F("capacity") + shortfall - seats,
    ).update(
        reserved_count=F("reserved_count") + seats,
        version=F("version") + 1,
        updated_at=now,
        **changes,
    )
    if updated != 1:
        raise SlotFull("This slot just filled up. Please choose another one.")
    return shortfall


def _release_places(slot_id, seats, override_seats, *, now):
    """Give back `seats` places in a slot the caller has locked, and any override capacity."""
    updated = Slot.objects.filter(pk=slot_id, reserved_count__gte=seats).update(
        reserved_count=F("reserved_count") - seats,
        capacity=F("capacity") - override_seats,
        version=F("version") + 1,
        updated_at=now,
    )
    if updated != 1:  # the counter disagrees with the registrations: never paper over it
        raise ConcurrentChange("The slot's count is out of step; nothing was changed.")


def _claim_tournament_places(tournament, seats, *, override):
    """The tournament cap: lock the tournament, count, then bump its version conditionally."""
    locked = (
        Tournament.objects.select_for_update()
        .only("pk", "version", "max_participants", "name")
        .get(pk=tournament.pk)
    )
    if locked.max_participants is None:
        return
    taken = tournament_places_taken(tournament_id=tournament.pk)
    if taken + seats > locked.max_participants and not override:
        raise TournamentFull(f"{locked.name} has no places left.")
    bumped = Tournament.objects.filter(pk=tournament.pk, version=locked.version).update(
        version=F("version") + 1
    )
    if bumped != 1:
        raise ConcurrentChange()


def _notify_after_commit(registration, kind):
    if registration.contact_email:
        from registrations.tasks import send_registration_email

        transaction.on_commit(
            partial(
                send_registration_email.enqueue, registration_id=str(registration.pk), kind=kind
            ),
            robust=True,
        )


# --- registering -----------------------------------------------------------------------------


def registration_create(
    *,
    tournament: Tournament,
    actor: str,
    slot: Slot | None = None,
    participant: Participant | None = None,
    team: Team | None = None,
    members=(),
    entrant_name: str = "",
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    idempotency_key: str | None = None,
    override_reason: str = "",
    hold: bool = False,
) -> Registration:
    """Enter a participant (or a team with its members) in a tournament, in `slot` if given.

    Rules: the tournament is published and inside its registration window; the slot belongs
    to it, is open and has not started; there is room for every seat the entry needs (a team
    takes one per member); nobody in the entry is already in this tournament or booked at an
    overlapping time elsewhere (with the changeover gap between rooms); the tournament's
    participant cap holds. A repeated `idempotency_key` returns the first registration.
    With `override_reason` an organizer may exceed capacity, book a blocked or past slot and
    sign up outside the window; the reason goes into the audit.

    Raises a `RegistrationError` subclass (or `Busy`) and writes nothing when a rule fails.
    With `hold` (the public sign-up asks for it) in a tournament that holds sign-ups
    (`hold_minutes`), the registration starts `reserved` until confirmed from the e-mail
    link; entries that staff make, and all others, are `confirmed` at once.
    """
    entry_for = partial(
        _entry_for, participant=participant, team=team, members=members, entrant_name=entrant_name
    )
    entry = entry_for(tournament=tournament)
    override_reason = override_reason.strip()
    try:
        with locked_atomic():
            registration = _place_new_entry(
                tournament=tournament,
                slot_id=slot.pk if slot else None,
                entry=entry,
                entry_for=entry_for,
                idempotency_key=idempotency_key or None,
                override_reason=override_reason,
                contact={
                    "contact_name": contact_name.strip(),
                    "contact_email": contact_email.strip(),
                    "contact_phone": contact_phone.strip(),
                },
                actor=actor,
                hold=hold,
            )
    except IntegrityError as exc:
        # Lost a race the checks could not see: a twin submit, or a second entry.
        if idempotency_key and "idempotency_key" in str(exc):
            return Registration.objects.get(idempotency_key=idempotency_key)
        if "one_active_registration" in str(exc):
            raise AlreadyRegistered(
                f"{entry.name} is already signed up for {tournament.name}."
            ) from exc
        raise
    return registration


def registration_override(*, reason: str, **kwargs) -> Registration:
    """An organizer places an entry regardless of capacity; the reason is mandatory."""
    if not (reason or "").strip():
        raise InvalidEntry("An override needs a reason.")
    return registration_create(override_reason=reason, **kwargs)


def _column(model, name):
    quote = connection.ops.quote_name
    return f"{quote(model._meta.db_table)}.{quote(name)}"


def _entry_rules(tournament):
    return tournament.entry_kind, tournament.allows_typed_names


def _place_new_entry(
    *,
    tournament,
    slot_id,
    entry,
    entry_for,
    idempotency_key,
    override_reason,
    contact,
    actor,
    hold=False,
):
    now = timezone.now()
    entry_rules = _entry_rules(tournament)
    _lock_people(entry)

    # One query locks the slot and answers every question about the people now held.
    if slot_id:
        try:
            row = (
                Slot.objects.select_for_update(of=("self",))
                .select_related("tournament")
                .annotate(
                    **entry.checks(
                        tournament_column=_column(Slot, "tournament_id"),
                        idempotency_key=idempotency_key,
                        placed=True,
                    )
                )
                .get(pk=slot_id)
            )
        except Slot.DoesNotExist:  # deleted meanwhile, or an id the caller did not check
            raise SlotUnavailable(
                "This slot is not available. Please choose another one."
            ) from None
        if row.tournament_id != tournament.pk:
            raise SlotUnavailable("This slot belongs to another tournament.")
        slot, tournament = row, row.tournament
    else:
        row = tournament = Tournament.objects.annotate(
            **entry.checks(
                tournament_column=_column(Tournament, "id"),
                idempotency_key=idempotency_key,
                placed=False,
            )
        ).get(pk=tournament.pk)
        slot = None

    if row.replay_id:
        return Registration.objects.get(pk=row.replay_id)
    if _entry_rules(tournament) != entry_rules:
        # The caller's tournament (a page's cached copy) is older than the row just read: who
        # may enter is decided by the row read now.
        entry_for(tournament=tournament)
    override = bool(override_reason)
    if not override:
        _check_open(tournament, now)
    if slot is not None:
        _check_slot(slot, now, override=override)
    if row.already_entered:
        who = f"{entry.name} or one of its members" if entry.members else entry.name
        raise AlreadyRegistered(f"{who} is already signed up for {tournament.name}.")
    if row.booked_elsewhere:
        _check_no_clash(entry, slot)

    override_seats = _claim_places(slot, entry.seats, override=override, now=now) if slot else 0
    if tournament.max_participants is not None:
        _claim_tournament_places(tournament, entry.seats, override=override)

    hold_until = None
    if hold and tournament.hold_minutes and not override:
        hold_until = now + timedelta(minutes=tournament.hold_minutes)
    registration = Registration.objects.create(
        tournament=tournament,
        slot=slot,
        participant_id=entry.participant_id,
        team_id=entry.team_id,
        seats=entry.seats,
        status=Status.RESERVED if hold_until else Status.CONFIRMED,
        entrant_name=entry.name,
        idempotency_key=idempotency_key,
        confirmed_at=None if hold_until else now,
        hold_expires_at=hold_until,
        override_reason=override_reason,
        override_seats=override_seats,
        **contact,
    )
    if entry.members:
        RegistrationMember.objects.bulk_create(
            RegistrationMember(registration=registration, participant_id=pid, name=name)
            for pid, name in entry.members
        )
    audit_event_record(
        actor=actor,
        action="registration.override" if override else "registration.create",
        target=registration,
        slot=str(slot.pk) if slot else None,
        seats=entry.seats,
        entrant=entry.name,
        status=registration.status,
        **({"reason": override_reason, "capacity_added": override_seats} if override else {}),
    )
    _notify_after_commit(registration, "held" if hold_until else "confirmed")
    return registration


# --- changing a registration -----------------------------------------------------------------


def _lock_registration(registration_id, *, expected_version=None, slot_id=...):
    locked = Registration.objects.select_for_update(of=("self",)).get(pk=registration_id)
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentChange()
    if slot_id is not ... and locked.slot_id != slot_id:
        raise ConcurrentChange(
            "This registration was moved at the same moment. Reload and try again."
        )
    return locked


def _save_registration(registration, *, now, **changes):
    """Conditional update on the version read under lock; changes `registration` in place."""
    updated = Registration.objects.filter(pk=registration.pk, version=registration.version).update(
        version=F("version") + 1, updated_at=now, **changes
    )
    if updated != 1:
        raise ConcurrentChange()
    for name, value in changes.items():
        setattr(registration, name, value)
    registration.version += 1


def registration_cancel(
    *,
    registration: Registration,
    actor: str,
    reason: str = "",
    expected_version: int | None = None,
    only_from: tuple | None = None,
) -> Registration:
    """Cancel an active registration and give its places back at once.

    Raises `StatusConflict` if it is already cancelled (or, with `only_from`, in any status
    not listed there: the public page cancels only reserved and confirmed entries),
    `ConcurrentChange` if it moved or changed under the caller (`expected_version`).
    """
    slot_id = Registration.objects.values_list("slot_id", flat=True).get(pk=registration.pk)
    now = timezone.now()
    with locked_atomic():
        if slot_id:
            Slot.objects.select_for_update().filter(pk=slot_id).values_list("pk").get()
        locked = _lock_registration(
            registration.pk, expected_version=expected_version, slot_id=slot_id
        )
        if locked.status == Status.CANCELLED:
            raise StatusConflict("This registration is already cancelled.")
        if only_from is not None and locked.status not in only_from:
            raise StatusConflict(
                f"A registration that is {locked.get_status_display().lower()} can no longer "
                "be cancelled here. Please contact the organizers."
            )
        if slot_id:
            _release_places(slot_id, locked.seats, locked.override_seats, now=now)
        _save_registration(
            locked,
            now=now,
            status=Status.CANCELLED,
            cancelled_at=now,
            cancel_reason=reason.strip(),
            hold_expires_at=None,
            override_seats=0,
        )
        audit_event_record(
            actor=actor,
            action="registration.cancel",
            target=locked,
            slot=str(slot_id) if slot_id else None,
            seats=locked.seats,
            reason=reason.strip(),
        )
        _notify_after_commit(locked, "cancelled")
    return locked


def registration_move(
    *,
    registration: Registration,
    to_slot: Slot,
    actor: str,
    override_reason: str = "",
    expected_version: int | None = None,
) -> Registration:
    """Move an entry to another slot of the same tournament.

    Both slots are locked in one query in primary-key order, so two opposite moves cannot
    deadlock. The target must be open, not started and have room (unless `override_reason`
    is given), and the move must not create a schedule clash for anyone in the entry.
    """
    current = Registration.objects.get(pk=registration.pk)
    entry = _entry_of(current)
    override_reason = override_reason.strip()
    now = timezone.now()
    with locked_atomic():
        _lock_people(entry)
        slot_ids = sorted({pk for pk in (to_slot.pk, current.slot_id) if pk is not None})
        slots = {
            s.pk: s
            for s in Slot.objects.select_for_update(of=("self",))
            .select_related("tournament")
            .filter(pk__in=slot_ids)
            .order_by("pk")
        }
        locked = _lock_registration(
            current.pk, expected_version=expected_version, slot_id=current.slot_id
        )
        if locked.status not in (Status.RESERVED, Status.CONFIRMED):
            raise StatusConflict(
                f"A registration that is {locked.get_status_display().lower()} cannot be moved."
            )
        target = slots.get(to_slot.pk)
        if target is None:
            raise SlotUnavailable("That slot no longer exists.")
        if target.tournament_id != locked.tournament_id:
            raise SlotUnavailable("That slot belongs to another tournament.")
        if target.pk == locked.slot_id:
            raise SlotUnavailable("The registration is already in that slot.")
        override = bool(override_reason)
        _check_slot(target, now, override=override)
        _check_no_clash(entry, target, exclude_id=locked.pk)
        if locked.slot_id:
            _release_places(locked.slot_id, locked.seats, locked.override_seats, now=now)
        added = _claim_places(target, locked.seats, override=override, now=now)
        from_slot = locked.slot_id
        _save_registration(
            locked,
            now=now,
            slot_id=target.pk,
            override_seats=added,
            override_reason=override_reason or locked.override_reason,
        )
        audit_event_record(
            actor=actor,
            action="registration.move",
            target=locked,
            from_slot=str(from_slot) if from_slot else None,
            to_slot=str(target.pk),
            **({"reason": override_reason, "capacity_added": added} if override else {}),
        )
        _notify_after_commit(locked, "moved")
    return locked


def _transition(
    registration, *, actor, action, allowed, expected_version=None, check=None, **changes
):
    now = timezone.now()
    with locked_atomic():
        locked = _lock_registration(registration.pk, expected_version=expected_version)
        if locked.status not in allowed:
            raise StatusConflict(
                f"A registration that is {locked.get_status_display().lower()} cannot be "
                f"{action.replace('_', ' ')}."
            )
        if check is not None:
            check(locked, now)
        before = locked.status
        stamped = {name: now if value is _NOW else value for name, value in changes.items()}
        _save_registration(locked, now=now, **stamped)
        audit_event_record(
            actor=actor,
            action=f"registration.{action}",
            target=locked,
            status_before=before,
            status_after=locked.status,
        )
    return locked


_NOW = object()


def _hold_not_expired(registration, now):
    if registration.hold_expires_at and registration.hold_expires_at <= now:
        raise StatusConflict(
            "This hold expired before it was confirmed, so the place is being released. "
            "Please sign up again."
        )


def registration_confirm(
    *, registration: Registration, actor: str, allow_expired: bool = False
) -> Registration:
    """Turn a held (reserved) registration into a confirmed one.

    A hold past its expiry is refused (its place is due back) unless `allow_expired`: an
    organizer may still confirm it while `expire_holds` has not released it.
    """
    confirmed = _transition(
        registration,
        actor=actor,
        action="confirmed",
        allowed=(Status.RESERVED,),
        check=None if allow_expired else _hold_not_expired,
        status=Status.CONFIRMED,
        confirmed_at=_NOW,
        hold_expires_at=None,
    )
    _notify_after_commit(confirmed, "confirmed")
    return confirmed


def registration_check_in(
    *, registration: Registration, actor: str, expected_version: int | None = None
) -> Registration:
    """Record arrival; a late arrival also turns a no-show into a check-in."""
    return _transition(
        registration,
        actor=actor,
        action="checked_in",
        allowed=(Status.RESERVED, Status.CONFIRMED, Status.NO_SHOW),
        expected_version=expected_version,
        status=Status.CHECKED_IN,
        checked_in_at=_NOW,
        hold_expires_at=None,
    )


def registration_mark_no_show(
    *, registration: Registration, actor: str, expected_version: int | None = None
) -> Registration:
    """Record that the entrant did not come; the place stays taken (the slot has passed)."""
    return _transition(
        registration,
        actor=actor,
        action="marked_no_show",
        allowed=(Status.RESERVED, Status.CONFIRMED),
        expected_version=expected_version,
        status=Status.NO_SHOW,
        hold_expires_at=None,
    )


def registration_expire_holds(*, actor: str = "system:expire_holds", now=None) -> int:
    """Release every hold past its expiry; returns how many this call released.

    Each hold is released in its own short transaction and re-checked under lock, so
    concurrent runs never release the same hold twice.
    """
    now = now or timezone.now()
    expired = list(
        Registration.objects.filter(status=Status.RESERVED, hold_expires_at__lte=now)
        .order_by("hold_expires_at")
        .values_list("pk", "slot_id")
    )
    released = 0
    for registration_id, slot_id in expired:
        try:
            released += _release_expired_hold(registration_id, slot_id, actor=actor, now=now)
        except (RegistrationError, Busy) as exc:  # the next run tries again
            logger.warning("Hold %s not released: %s", registration_id, exc.message)
    return released


def _release_expired_hold(registration_id, slot_id, *, actor, now) -> int:
    with locked_atomic():
        if slot_id:
            Slot.objects.select_for_update().filter(pk=slot_id).values_list("pk").get()
        locked = Registration.objects.select_for_update().get(pk=registration_id)
        if (
            locked.status != Status.RESERVED
            or locked.slot_id != slot_id
            or not locked.hold_expires_at
            or locked.hold_expires_at > now
        ):
            return 0  # confirmed, moved or released by someone else meanwhile
        if slot_id:
            _release_places(slot_id, locked.seats, locked.override_seats, now=now)
        _save_registration(
            locked,
            now=now,
            status=Status.CANCELLED,
            cancelled_at=now,
            cancel_reason="Hold expired before it was confirmed.",
            hold_expires_at=None,
            override_seats=0,
        )
        audit_event_record(actor=actor, action="registration.hold_expired", target=locked)
    return 1


# --- slots that affect registrations ---------------------------------------------------------


def slot_cancel(*, slot: Slot, actor: str, reason: str = "") -> int:
    """Cancel a slot and every active registration in it; returns how many were cancelled."""
    now = timezone.now()
    reason = reason.strip() or "The slot was cancelled by the organizers."
    with locked_atomic():
        locked_slot = Slot.objects.select_for_update().get(pk=slot.pk)
        if locked_slot.status == Slot.Status.CANCELLED:
            return 0
        registrations = list(
            Registration.objects.select_for_update()
            .filter(slot_id=slot.pk, status__in=ACTIVE)
            .order_by("pk")
        )
        given_back = sum(r.override_seats for r in registrations)
        for registration in registrations:
            _save_registration(
                registration,
                now=now,
                status=Status.CANCELLED,
                cancelled_at=now,
                cancel_reason=reason,
                hold_expires_at=None,
                override_seats=0,
            )
            audit_event_record(
                actor=actor, action="registration.cancel", target=registration, reason=reason
            )
            _notify_after_commit(registration, "cancelled")
        updated = Slot.objects.filter(pk=slot.pk, version=locked_slot.version).update(
            status=Slot.Status.CANCELLED,
            reserved_count=0,
            capacity=F("capacity") - given_back,
            version=F("version") + 1,
            updated_at=now,
        )
        if updated != 1:
            raise ConcurrentChange("The slot changed at the same moment. Reload and try again.")
        audit_event_record(
            actor=actor,
            action="slot.cancel",
            target=locked_slot,
            reason=reason,
            registrations_cancelled=len(registrations),
        )
    return len(registrations)


# --- organizer back office (the admin) -------------------------------------------------------


def registration_create_group(
    *,
    tournament: Tournament,
    slot: Slot,
    participants,
    actor: str,
    override_reason: str = "",
) -> list[Registration]:
    """Enter several people of an individual event into one slot, all or none.

    For group performances booked by organizers (a team's members playing together when the
    tournament takes individual entries). Everyone is locked first, in primary-key order, then
    each entry goes through the same rules as `registration_create`, within one transaction:
    the first refusal raises its `RegistrationError`, naming the person, and nobody is entered.
    """
    entry_fors = [
        partial(_entry_for, participant=person, team=None, members=(), entrant_name="")
        for person in participants
    ]
    entries = [entry_for(tournament=tournament) for entry_for in entry_fors]
    if not entries:
        raise InvalidEntry("Choose at least one person to enter.")
    everyone = _Entry(
        name="", seats=0, person_ids=tuple(sorted({pid for e in entries for pid in e.person_ids}))
    )
    override_reason = override_reason.strip()
    created = []
    try:
        with locked_atomic():
            _lock_people(everyone)
            for entry, entry_for in zip(entries, entry_fors, strict=True):
                try:
                    created.append(
                        _place_new_entry(
                            tournament=tournament,
                            slot_id=slot.pk,
                            entry=entry,
                            entry_for=entry_for,
                            idempotency_key=None,
                            override_reason=override_reason,
                            contact={},
                            actor=actor,
                        )
                    )
                except RegistrationError as exc:
                    raise type(exc)(f"{entry.name}: {exc.message}") from exc
    except IntegrityError as exc:
        if "one_active_registration" in str(exc):
            raise AlreadyRegistered(
                f"Someone in this group is already signed up for {tournament.name}."
            ) from exc
        raise
    return created


def registration_update_contact(
    *, registration: Registration, actor: str, **contact
) -> Registration:
    """Correct the contact details of a registration (name, e-mail, phone); audited."""
    allowed = {"contact_name", "contact_email", "contact_phone"}
    if set(contact) - allowed:
        raise InvalidEntry("Only the contact details can be changed here.")
    now = timezone.now()
    with locked_atomic():
        locked = _lock_registration(registration.pk)
        changed = {k: (v or "").strip() for k, v in contact.items() if getattr(locked, k) != v}
        if changed:
            _save_registration(locked, now=now, **changed)
            audit_event_record(
                actor=actor,
                action="registration.update_contact",
                target=locked,
                changed=sorted(changed),
            )
    return locked
