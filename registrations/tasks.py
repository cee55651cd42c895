"""Work that happens after a registration change has committed, in the worker: e-mails and
webhook deliveries."""

from django_tasks import task

from registrations.notifications.outbox import notification_send
from registrations.sync.delivery import webhooks_deliver


@task()
def send_notification(*, notification_id: str) -> bool:
    """Send one queued e-mail; its row records the outcome and any retry (never raises for a
    failed send, so the backend's own retries are not involved)."""
    return notification_send(notification_id=notification_id)


@task()
def deliver_webhooks(*, registration_id: str) -> int:
    """Deliver a registration's due changes in order; the rows record outcomes and retries."""
    return webhooks_deliver(registration_id=registration_id)
