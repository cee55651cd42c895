"""Webhook endpoints: saved with their URL checked, and `Tournament.has_webhooks` kept true
exactly while a tournament has an active endpoint (the engine reads it to skip the outbox)."""

import base64
import binascii
from uuid import UUID

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from common.audit import audit_event_record
from registrations.errors import UnsafeWebhookURL
from registrations.models import WebhookDelivery, WebhookEndpoint
from registrations.sync.http import webhook_url_check
from tournaments.models import Tournament


def webhook_secret_check(secret: str) -> None:
    """Raises `UnsafeWebhookURL` unless `secret` is "whsec_" and base64 of at least 16 bytes."""
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not secret.startswith("whsec_") or len(key) < 16:
        raise UnsafeWebhookURL(
            "The secret is 'whsec_' followed by base64 of at least 16 random bytes; leave the "
            "suggested one if unsure."
        )


def _flags_refresh(tournament_ids: set[UUID]) -> None:
    active = WebhookEndpoint.objects.filter(tournament_id=OuterRef("pk"), active=True)
    Tournament.objects.filter(pk__in=tournament_ids).update(has_webhooks=Exists(active))


def webhook_endpoint_save(*, endpoint: WebhookEndpoint, actor: str) -> WebhookEndpoint:
    """Save a new or edited endpoint. Its URL must pass `webhook_url_check` and its secret
    `webhook_secret_check` (both raise `UnsafeWebhookURL`). Changes made after this commits
    are delivered to it; saving it active again does not resend what it missed."""
    webhook_url_check(endpoint.url)
    webhook_secret_check(endpoint.secret)
    with transaction.atomic():
        before = WebhookEndpoint.objects.filter(pk=endpoint.pk).values_list("tournament_id").first()
        if endpoint.active:
            endpoint.disabled_reason = ""
        endpoint.save()
        _flags_refresh({endpoint.tournament_id, *(before or ())})
        audit_event_record(
            actor=actor,
            action="webhook_endpoint.save",
            target=endpoint,
            url=endpoint.url,
            active=endpoint.active,
            events=endpoint.events,
        )
    return endpoint


def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> int:
    """Switch an endpoint off (the receiver said 410 Gone): its queued rows fail with `reason`
    and its tournament stops writing rows for it. Returns the rows failed."""
    now = timezone.now()
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            active=False, disabled_reason=reason, updated_at=now
        )
        failed = WebhookDelivery.objects.filter(
            endpoint_id=endpoint.pk,
            state__in=[WebhookDelivery.State.QUEUED, WebhookDelivery.State.SENDING],
        ).update(state=WebhookDelivery.State.FAILED, error=reason, updated_at=now)
        _flags_refresh({endpoint.tournament_id})
        audit_event_record(
            actor="worker:webhooks",
            action="webhook_endpoint.disable",
            target=endpoint,
            reason=reason,
        )
    return failed
