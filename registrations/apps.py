from django.apps import AppConfig


class RegistrationsConfig(AppConfig):
    name = "registrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from common import metrics
        from registrations import checks  # noqa: F401  (registers the deploy checks)
        from registrations.notifications.outbox import notification_queue_depth
        from registrations.sync.delivery import webhooks_queue_depth

        metrics.QUEUE_READERS["notifications"] = notification_queue_depth
        metrics.QUEUE_READERS["webhooks"] = webhooks_queue_depth
