"""Work that happens after a registration change has committed, in the worker."""

from django_tasks import task

from registrations.notifications.outbox import notification_send


@task()
def send_notification(*, notification_id: str) -> bool:
    """Send one queued e-mail; its row records the outcome and any retry (never raises for a
    failed send, so the backend's own retries are not involved)."""
    return notification_send(notification_id=notification_id)
