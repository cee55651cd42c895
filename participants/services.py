"""Writes to the participant list."""

from typing import Any

from django.db import transaction

from common.audit import audit_changes, audit_event_record
from participants.models import Participant, Team


def participant_create(*, actor: str, **fields: Any) -> Participant:
    participant = Participant(**fields)
    participant.search_name = participant.folded_search_name()
    with transaction.atomic():
        participant.full_clean()
        participant.save()
        audit_event_record(
            actor=actor, action="participant.create", target=participant, name=participant.full_name
        )
    return participant


def participant_update(*, participant: Participant, actor: str, **fields: Any) -> Participant:
    changed = {k: v for k, v in fields.items() if getattr(participant, k) != v}
    changes = audit_changes(participant, changed)
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
                name=participant.full_name,
                **changes,
            )
    return participant


def team_create(*, actor: str, **fields: Any) -> Team:
    with transaction.atomic():
        team = Team.objects.create(**fields)
        audit_event_record(actor=actor, action="team.create", target=team, name=team.name)
    return team


# --- organizer back office (the admin): edits ------------------------------------------------
# Merging duplicates moves their entries: `registrations.services.participant_merge`.


def team_update(*, team: Team, actor: str, **fields: Any) -> Team:
    changed = {k: v for k, v in fields.items() if getattr(team, k) != v}
    changes = audit_changes(team, changed)
    for name, value in changed.items():
        setattr(team, name, value)
    with transaction.atomic():
        team.full_clean()
        team.save()
        if changed:
            audit_event_record(
                actor=actor, action="team.update", target=team, name=team.name, **changes
            )
    return team
