"""The outbox with the database task backend and its worker, run in-process and bounded."""

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from registrations import services
from registrations.models import Notification
from tests.admin_client import messages_of, post_action
from tests.factories import ParticipantFactory, SlotFactory

pytestmark = pytest.mark.django_db
# The worker commits and closes connections as in production: real transactions.
WORKER = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = override_settings(
    TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
)


def sign_up(slot, email="parent@example.com"):
    return services.registration_create(
        tournament=slot.tournament,
        slot_id=slot.pk,
        participant=ParticipantFactory(),
        contact_email=email,
        actor="public",
    )


def run_worker():
    """The real worker command, until the queue is empty."""
    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)


@WORKER
@DATABASE_TASKS
def test_the_task_is_written_in_the_registrations_transaction(mailoutbox):
    slot = SlotFactory(capacity=3)
    with pytest.raises(RuntimeError), transaction.atomic():
        sign_up(slot)
        assert DBTaskResult.objects.count() == 1
        raise RuntimeError("rolled back")
    assert not DBTaskResult.objects.exists()
    assert not Notification.objects.exists()
    run_worker()
    assert mailoutbox == []


@WORKER
@DATABASE_TASKS
def test_the_worker_sends_the_queue_and_nothing_before(mailoutbox):
    slot = SlotFactory(capacity=5)
    for i in range(4):
        sign_up(slot, email=f"person{i}@example.com")
    assert mailoutbox == []  # the request only wrote rows
    assert set(Notification.objects.values_list("state", flat=True)) == {"queued"}

    run_worker()

    assert sorted(m.to[0] for m in mailoutbox) == [f"person{i}@example.com" for i in range(4)]
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


@WORKER
@DATABASE_TASKS
def test_the_periodic_command_enqueues_retries_for_the_worker(mailoutbox):
    from django.utils import timezone

    sign_up(SlotFactory())
    DBTaskResult.objects.all().delete()  # the task was lost
    Notification.objects.update(enqueued_at=timezone.now() - timezone.timedelta(hours=1))
    call_command("run_periodic_jobs", verbosity=0)
    run_worker()
    assert len(mailoutbox) == 1
    assert Notification.objects.get().state == "sent"


def test_send_again_from_the_admin(admin_client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        registration = sign_up(SlotFactory())
    notification = Notification.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(admin_client, Notification, "send_again", [notification])
    assert "Queued 1 e-mail to go out again." in messages_of(response)
    assert len(mailoutbox) == 2
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == ("sent", 1)

    page = admin_client.get(f"/admin/registrations/registration/{registration.pk}/change/")
    assert "E-mails" in page.content.decode() and "Confirmation" in page.content.decode()
    listing = admin_client.get(
        "/admin/registrations/notification/?state__exact=sent&kind__exact=confirmed"
    )
    assert listing.context["cl"].result_count == 1
