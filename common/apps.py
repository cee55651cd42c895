from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    # Its one table is the audit trail, so that is what the admin's index calls it.
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from django_tasks.signals import task_finished

        from common import checks, metrics  # noqa: F401  (registers the deploy checks)

        task_finished.connect(metrics.task_failure_counted, dispatch_uid="lineup-task-failures")
