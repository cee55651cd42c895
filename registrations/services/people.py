"""Merging duplicate records of one person: their entries follow them, so it is an entries
operation (the participant list itself changes through `participants.services`)."""

from uuid import UUID

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from common.audit import audit_event_record
from common.errors import LineupError
from common.locking import locked_atomic
from participants.models import Participant
from registrations.models import (
    Registration,
    RegistrationMember,
    WaitlistEntry,
    WebhookEndpoint,
)
from registrations.rows import sync
from registrations.rules import first_clash


class MergeRefused(LineupError):
    """Merging would break a rule of the entries (not an entry's own refusal)."""

    message = "These participants cannot be merged."


# Filled in on the kept record from the duplicate when the kept one has them empty.
_MERGE_FILLABLE = ("display_name", "birth_year", "grade", "school", "team_id", "external_id")


def _entries_of(participant_ids: list[UUID]) -> QuerySet[Registration]:
    """Active registrations holding any of these people, as entrant or as a team member."""
    return (
        Registration.objects.active()
        .filter(
            Q(participant_id__in=participant_ids) | Q(members__participant_id__in=participant_ids)
        )
        .select_related("slot__location", "tournament")
        .distinct()
    )


def _check_mergeable(keep: Participant, duplicate: Participant) -> None:
    shared = RegistrationMember.objects.filter(participant=keep).values("registration_id")
    if RegistrationMember.objects.filter(
        participant=duplicate, registration_id__in=shared
    ).exists():
        raise MergeRefused(
            f"{keep.full_name} and {duplicate.full_name} are both listed in the same team "
            "entry; remove one of them from it first."
        )
    kept_entries = list(_entries_of([keep.pk]))
    for other in _entries_of([duplicate.pk]):
        mine = [entry for entry in kept_entries if entry.pk != other.pk]
        same = next((entry for entry in mine if entry.tournament_id == other.tournament_id), None)
        if same is not None:
            raise MergeRefused(
                f"Both are signed up for {same.tournament.name}: cancel one of the two "
                "entries first, then merge."
            )
        clash = other.slot and first_clash(
            other.slot, mine, changeover_minutes=other.tournament.changeover_minutes
        )
        if clash:
            raise MergeRefused(
                f"Merging would double-book {keep.full_name}: {clash.tournament.name} and "
                f"{other.tournament.name} overlap in time. Move one entry first."
            )


def participant_merge(*, keep: Participant, duplicate: Participant, actor: str) -> int:
    """Fold `duplicate` into `keep`: its registrations and team places move to `keep`, blank
    details on `keep` are filled from it, then it is deleted. Returns the entries moved.

    Both people are locked first (primary-key order, as the engine does), so nobody can sign
    either of them up meanwhile. Refused with `MergeRefused` when the merge would leave the
    kept person with two active entries in one tournament, two overlapping bookings (with the
    changeover gap between rooms), or twice in one team entry. Every moved registration gets
    an audit event, so its history shows the merge.
    """
    if keep.pk == duplicate.pk:
        raise MergeRefused("Choose two different participants to merge.")
    with locked_atomic():
        people = {
            p.pk: p
            for p in Participant.objects.select_for_update()
            .filter(pk__in=[keep.pk, duplicate.pk])
            .order_by("pk")
        }
        if len(people) != 2:
            raise MergeRefused("One of these participants no longer exists.")
        keep, duplicate = people[keep.pk], people[duplicate.pk]
        _check_mergeable(keep, duplicate)

        moved_ids = sorted(
            set(Registration.objects.filter(participant=duplicate).values_list("pk", flat=True))
            | set(
                RegistrationMember.objects.filter(participant=duplicate).values_list(
                    "registration_id", flat=True
                )
            )
        )
        registrations = list(
            Registration.objects.select_for_update(of=("self",))
            .select_related("tournament")
            .filter(pk__in=moved_ids)
            .order_by("pk")
        )
        Registration.objects.filter(pk__in=moved_ids, participant=duplicate).update(
            participant=keep,
            entrant_name=keep.full_name,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        RegistrationMember.objects.filter(participant=duplicate).update(
            participant=keep, name=keep.full_name
        )
        for registration in registrations:
            if registration.participant_id == duplicate.pk:
                registration.participant_id, registration.entrant_name = keep.pk, keep.full_name
                registration.version += 1
            sync(registration, WebhookEndpoint.Event.UPDATED)
            audit_event_record(
                actor=actor,
                action="registration.participant_merged",
                target=registration,
                merged_from=str(duplicate.pk),
                merged_from_name=duplicate.full_name,
                merged_into=str(keep.pk),
            )

        filled = [
            name
            for name in _MERGE_FILLABLE
            if getattr(keep, name) in (None, "") and getattr(duplicate, name) not in (None, "")
        ]
        values = {name: getattr(duplicate, name) for name in filled}
        metadata = {**duplicate.metadata, **keep.metadata}
        merged_name = duplicate.full_name
        duplicate_id = duplicate.pk
        _move_waitlist_entries(duplicate, keep)
        duplicate.delete()  # first: its external_id may move to the kept record
        for name, value in values.items():
            setattr(keep, name, value)
        keep.metadata = metadata
        keep.search_name = keep.folded_search_name()
        keep.save()
        audit_event_record(
            actor=actor,
            action="participant.merge",
            target=keep,
            merged_from=str(duplicate_id),
            merged_from_name=merged_name,
            registrations_moved=len(registrations),
            filled=sorted(filled),
        )
    return len(registrations)


def _move_waitlist_entries(duplicate: Participant, keep: Participant) -> None:
    """The duplicate's waitlist entries become the kept person's; where both wait in the same
    tournament, the duplicate's place in line is given up (one entry per person)."""
    now = timezone.now()
    both = WaitlistEntry.objects.on_list().filter(participant=keep).values("tournament_id")
    WaitlistEntry.objects.on_list().filter(participant=duplicate, tournament_id__in=both).update(
        status=WaitlistEntry.Status.REMOVED, closed_at=now, updated_at=now
    )
    WaitlistEntry.objects.filter(participant=duplicate).update(
        participant=keep, entrant_name=keep.full_name, version=F("version") + 1, updated_at=now
    )
