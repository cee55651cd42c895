"""The one audit writer: a single event, or many built first and inserted together."""

from collections.abc import Iterable
from typing import Any

from django.db import models

from common.models import AuditEvent


def audit_event_build(
    *, actor: str, action: str, target: models.Model, tournament_id: Any = None, **payload: Any
) -> AuditEvent:
    """An unsaved event; `tournament_id` defaults to the target's own tournament, if any."""
    return AuditEvent(
        actor=actor,
        action=action,
        target_type=str(target._meta.model_name),
        target_id=target.pk,
        tournament_id=tournament_id or getattr(target, "tournament_id", None),
        payload=payload,
    )


def audit_event_record(
    *,
    actor: str,
    action: str,
    target: models.Model,
    tournament: models.Model | None = None,
    **payload: Any,
) -> AuditEvent:
    """Write one audit event; callers do it inside the transaction that makes the change."""
    event = audit_event_build(
        actor=actor,
        action=action,
        target=target,
        tournament_id=tournament.pk if tournament is not None else None,
        **payload,
    )
    event.save(force_insert=True)
    return event


def audit_changes(obj: models.Model, changed: dict[str, Any]) -> dict[str, Any]:
    """`changed` (field → new value) as the audit keeps it: the field names and every value
    before and after, related rows by name (call it before changing `obj`)."""

    def shown(value: Any) -> Any:
        return str(value) if isinstance(value, models.Model) else value

    names = sorted(changed)
    return {
        "changed": names,
        "before": {name: shown(getattr(obj, name)) for name in names},
        "after": {name: shown(changed[name]) for name in names},
    }


def audit_events_record(events: Iterable[AuditEvent]) -> int:
    """Insert events made with `audit_event_build` in one statement (imports: per-row history
    at little cost); returns how many were written."""
    return len(AuditEvent.objects.bulk_create(list(events)))
