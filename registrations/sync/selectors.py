"""Reads of the sync state: a registration's sync status, from its outbox rows."""

from django.db.models import Case, CharField, Exists, OuterRef, QuerySet, Value, When

from registrations.models import Registration, WebhookDelivery

State = WebhookDelivery.State

PENDING, SYNCED, FAILED = "pending", "synced", "failed"
SYNC_STATUSES = {PENDING: "Pending", SYNCED: "Synced", FAILED: "Failed"}


def registrations_with_sync_status(
    *, registrations: QuerySet[Registration]
) -> QuerySet[Registration]:
    """`registrations` annotated with `sync_status`: pending while any change is still on its
    way, failed if one was given up (until sent again), synced once every one arrived; empty
    where nothing was ever sent (the tournament has no webhooks)."""

    def having(*states: str) -> Exists:
        return Exists(
            WebhookDelivery.objects.filter(registration_id=OuterRef("pk"), state__in=states)
        )

    return registrations.annotate(
        sync_status=Case(
            When(having(State.QUEUED, State.SENDING), then=Value(PENDING)),
            When(having(State.FAILED), then=Value(FAILED)),
            When(having(State.SENT), then=Value(SYNCED)),
            default=Value(""),
            output_field=CharField(),
        )
    )
