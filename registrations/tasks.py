"""The tasks the worker runs (`manage.py db_worker`). Each is defined beside the work it does;
this module names them all in one place."""

from registrations.notifications.outbox import send_notification

__all__ = ["send_notification"]
