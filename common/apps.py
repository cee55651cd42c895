from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    # Its one table is the audit trail, so that is what the admin's index calls it.
    verbose_name = "Audit trail"
