"""Writes to the participant list."""

from django.db import transaction

from participants.models import Participant, Team
from registrations.services import audit_event_record


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
