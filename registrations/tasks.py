"""The tasks the worker runs (`manage.py db_worker`): e-mails and webhook deliveries. Each is
defined beside the work it does; this module names them all in one place."""

from registrations.notifications.outbox import send_notification
from registrations.sync.delivery import deliver_webhooks

__all__ = ["deliver_webhooks", "send_notification"]
