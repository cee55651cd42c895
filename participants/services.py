"""Writes to the participant list."""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from common.audit import audit_event_record
from common.locking import locked_atomic
from participants.models import Participant, Team
from registrations.errors import RegistrationError


def participant_create(*, actor: str, **fields) -> Participant:
    participant = Participant(**fields)
    participant.search_name = participant.folded_search_name()
    with transaction.atomic():
        participant.full_clean()
        participant.save()
        audit_event_record(
            actor=actor, action="participant.create", target=participant, name=participant.full_name
        )
    return participant


def participant_update(*, participant: Participant, actor: str, **fields) -> Participant:
    changed = {k: v for k, v in fields.items() if getattr(participant, k) != v}
    for name, value in changed.items():
        setattr(participant, name, value)
    participant.search_name = participant.folded_search_name()
    with transaction.atomic():
        participant.save()
        if changed:
            audit_event_record(
                actor=actor,
                action="participant.update",
                target=participant,
                changed=sorted(changed),
            )
    return participant


def team_create(*, actor: str, **fields) -> Team:
    with transaction.atomic():
        team = Team.objects.create(**fields)
        audit_event_record(actor=actor, action="team.create", target=team, name=team.name)
    return team


# --- organizer back office (the admin): edits and merging duplicates --------------------------


def team_update(*, team: Team, actor: str, **fields) -> Team:
    changed = {k: v for k, v in fields.items() if getattr(team, k) != v}
    for name, value in changed.items():
        setattr(team, name, value)
    with transaction.atomic():
        team.full_clean()
        team.save()
        if changed:
            audit_event_record(
                actor=actor, action="team.update", target=team, changed=sorted(changed)
            )
    return team


class MergeRefused(RegistrationError):
    message = "These participants cannot be merged."


# Filled in on the kept record from the duplicate when the kept one has them empty.
_MERGE_FILLABLE = ("display_name", "birth_year", "grade", "school", "team_id", "external_id")


def _entries_of(participant_ids):
    """Active registrations holding any of these people, as entrant or as a team member."""
    from registrations.models import Registration

    return (
        Registration.objects.active()
        .filter(
            Q(participant_id__in=participant_ids) | Q(members__participant_id__in=participant_ids)
        )
        .select_related("slot__location", "tournament")
        .distinct()
    )


def _check_mergeable(keep, duplicate):
    from registrations.models import RegistrationMember

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
        for mine in kept_entries:
            if mine.pk == other.pk:
                continue
            if mine.tournament_id == other.tournament_id:
                raise MergeRefused(
                    f"Both are signed up for {mine.tournament.name}: cancel one of the two "
                    "entries first, then merge."
                )
            changeover = max(
                mine.tournament.changeover_minutes, other.tournament.changeover_minutes
            )
            if (
                mine.slot
                and other.slot
                and mine.slot.clashes_with(other.slot, changeover_minutes=changeover)
            ):
                raise MergeRefused(
                    f"Merging would double-book {keep.full_name}: {mine.tournament.name} and "
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
    from registrations.models import Registration, RegistrationMember

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
            Registration.objects.select_for_update().filter(pk__in=moved_ids).order_by("pk")
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
