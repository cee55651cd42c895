"""The reservation engine: every change to a registration goes through these functions.

Each function is one short transaction (`locked_atomic`: READ COMMITTED, bounded lock waits
that become `Busy`) that writes its AuditEvent in that same transaction; e-mail goes out only
after commit. Locks are taken late, once, several rows in one query in primary-key order, and
always in the order participant → slot → registration → tournament, so no two operations can
deadlock. After locking, every counter changes through a conditional F-expression UPDATE with
a version check whose row count is verified; the database constraints stand behind it.
"""

import logging
from datetime import timedelta
from functools import partial
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from common.audit import audit_event_record
from common.locking import Busy, locked_atomic
from participants.models import Participant, Team
from registrations.entries import Entry, entry_for, entry_of, lock_people
from registrations.errors import (
    AlreadyRegistered,
    ConcurrentChange,
    InvalidEntry,
    RegistrationError,
    SlotUnavailable,
    StatusConflict,
)
from registrations.models import Registration, RegistrationMember
from registrations.places import claim_places, claim_tournament_places, release_places
from registrations.rules import (
    check_no_clash,
    check_open,
    check_slot,
    entrant_cancel_refusal,
)
from tournaments.models import Slot, Tournament

logger = logging.getLogger(__name__)

Status = Registration.Status


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
    slot_id: UUID | str | None = None,
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
    """Enter a participant (or a team with its members) in a tournament, in slot `slot_id` if any.

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
    resolve_entry = partial(
        entry_for, participant=participant, team=team, members=members, entrant_name=entrant_name
    )
    entry = resolve_entry(tournament=tournament)
    override_reason = override_reason.strip()
    try:
        with locked_atomic():
            registration = _place_new_entry(
                tournament=tournament,
                slot_id=slot_id,
                entry=entry,
                resolve_entry=resolve_entry,
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
    resolve_entry,
    idempotency_key,
    override_reason,
    contact,
    actor,
    hold=False,
):
    now = timezone.now()
    entry_rules = _entry_rules(tournament)
    lock_people(entry)

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
        resolve_entry(tournament=tournament)
    override = bool(override_reason)
    if not override:
        check_open(tournament, now)
    if slot is not None:
        check_slot(slot, now, override=override)
    if row.already_entered:
        who = f"{entry.name} or one of its members" if entry.members else entry.name
        raise AlreadyRegistered(f"{who} is already signed up for {tournament.name}.")
    if row.booked_elsewhere:
        check_no_clash(entry, slot)

    override_seats = claim_places(slot, entry.seats, override=override, now=now) if slot else 0
    if tournament.max_participants is not None:
        claim_tournament_places(tournament, entry.seats, override=override)

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


def _uuid(value):
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise SlotUnavailable("That slot no longer exists.") from None


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
    by_entrant: bool = False,
) -> Registration:
    """Cancel an active registration and give its places back at once.

    Raises `StatusConflict` if it is already cancelled, or, `by_entrant` (the private page),
    unless it is held or confirmed and its slot has not started; `ConcurrentChange` if it
    moved or changed under the caller (`expected_version`).
    """
    slot_id = Registration.objects.values_list("slot_id", flat=True).get(pk=registration.pk)
    now = timezone.now()
    with locked_atomic():
        slot_starts_at = None
        if slot_id:
            slot_starts_at = (
                Slot.objects.select_for_update().filter(pk=slot_id).values_list("starts_at").get()
            )[0]
        locked = _lock_registration(
            registration.pk, expected_version=expected_version, slot_id=slot_id
        )
        if locked.status == Status.CANCELLED:
            raise StatusConflict("This registration is already cancelled.")
        if by_entrant:
            refusal = entrant_cancel_refusal(locked, slot_starts_at=slot_starts_at, now=now)
            if refusal:
                raise StatusConflict(refusal)
        if slot_id:
            release_places(slot_id, locked.seats, locked.override_seats, now=now)
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
    to_slot_id: UUID | str,
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
    entry = entry_of(current)
    override_reason = override_reason.strip()
    now = timezone.now()
    with locked_atomic():
        lock_people(entry)
        slot_ids = sorted({pk for pk in (_uuid(to_slot_id), current.slot_id) if pk is not None})
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
        target = slots.get(_uuid(to_slot_id))
        if target is None:
            raise SlotUnavailable("That slot no longer exists.")
        if target.tournament_id != locked.tournament_id:
            raise SlotUnavailable("That slot belongs to another tournament.")
        if target.pk == locked.slot_id:
            raise SlotUnavailable("The registration is already in that slot.")
        override = bool(override_reason)
        check_slot(target, now, override=override)
        check_no_clash(entry, target, exclude_id=locked.pk)
        if locked.slot_id:
            release_places(locked.slot_id, locked.seats, locked.override_seats, now=now)
        added = claim_places(target, locked.seats, override=override, now=now)
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
            release_places(slot_id, locked.seats, locked.override_seats, now=now)
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


# --- organizer back office (the admin) -------------------------------------------------------


def registration_create_group(
    *,
    tournament: Tournament,
    slot_id: UUID | str,
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
    resolvers = [
        partial(entry_for, participant=person, team=None, members=(), entrant_name="")
        for person in participants
    ]
    entries = [resolve(tournament=tournament) for resolve in resolvers]
    if not entries:
        raise InvalidEntry("Choose at least one person to enter.")
    everyone = Entry(
        name="", seats=0, person_ids=tuple(sorted({pid for e in entries for pid in e.person_ids}))
    )
    override_reason = override_reason.strip()
    created = []
    try:
        with locked_atomic():
            lock_people(everyone)
            for entry, resolve in zip(entries, resolvers, strict=True):
                try:
                    created.append(
                        _place_new_entry(
                            tournament=tournament,
                            slot_id=slot_id,
                            entry=entry,
                            resolve_entry=resolve,
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
