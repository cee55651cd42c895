from django.apps import AppConfig


class RegistrationsConfig(AppConfig):
    name = "registrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from registrations import checks  # noqa: F401  (registers the deploy checks)
