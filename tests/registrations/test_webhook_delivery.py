"""Delivery to a real receiver on 127.0.0.1, by the real worker: signatures, order per
registration, retries after 500s, 410 Gone, rollbacks, and two workers at once."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from registrations import services
from registrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from registrations.sync.delivery import (
    MAX_ATTEMPTS,
    backoff,
    webhooks_deliver,
    webhooks_requeue_stuck,
)
from registrations.sync.endpoints import webhook_endpoint_save
from tests.factories import ParticipantFactory, SlotFactory
from tests.registrations.webhook_receiver import Receiver

# The worker commits and closes connections as in production: real transactions.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


@pytest.fixture(autouse=True)
def _local_receivers_and_the_database_queue():
    with override_settings(
        LINEUP_WEBHOOKS_ALLOW_PRIVATE=True,
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
    ):
        yield


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def run_worker():
    """The real worker command, until the queue is empty."""
    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)


def time_passes():
    """An hour passes: every backed-off try falls due, and the periodic job runs."""
    now = timezone.now()
    WebhookDelivery.objects.filter(state="queued").update(
        enqueued_at=now - timedelta(hours=1), next_attempt_at=now - timedelta(seconds=1)
    )
    call_command("run_periodic_jobs", verbosity=0)


def endpoint_for(tournament, receiver):
    return webhook_endpoint_save(
        endpoint=WebhookEndpoint(tournament=tournament, url=receiver.url, secret=SECRET),
        actor="test",
    )


def life_of_a_registration(slot):
    """Sign up, move, check in: three changes of one registration, in this order."""
    other = SlotFactory(time_block__tournament=slot.tournament, capacity=3)
    registration = services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="t"
    )
    services.registration_move(registration=registration, to_slot_id=other.pk, actor="t")
    services.registration_check_in(registration=registration, actor="t")
    return registration


def test_the_receiver_gets_each_change_signed_and_in_order():
    slot = SlotFactory(capacity=3)
    with Receiver(SECRET) as receiver:
        endpoint_for(slot.tournament, receiver)
        registration = life_of_a_registration(slot)
        run_worker()
    messages = receiver.delivered()
    assert receiver.bad_signatures == 0
    assert [m["type"] for m in messages] == [
        "registration.created",
        "registration.moved",
        "registration.checked_in",
    ]
    assert {m["data"]["id"] for m in messages} == {str(registration.pk)}
    assert [m["data"]["version"] for m in messages] == [1, 2, 3]
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"sent"}


def test_a_receiver_that_answers_500_gets_everything_in_order_once_it_answers_200():
    """Down for a while (500s, then an hour's backoff passes): it gets every change afterwards,
    in order, and nothing later went ahead of an earlier one meanwhile."""
    slot = SlotFactory(capacity=3)
    with Receiver(SECRET, answers=[500, 500, 500]) as receiver:
        endpoint_for(slot.tournament, receiver)
        life_of_a_registration(slot)
        run_worker()
        assert [s for s, _ in receiver.received] == [500]  # the later two wait their turn
        first = WebhookDelivery.objects.order_by("id").first()
        assert (first.state, first.attempts) == ("queued", 1)
        assert first.next_attempt_at > timezone.now() + backoff(1) - timedelta(seconds=5)
        for _ in range(3):
            time_passes()
            run_worker()
        assert [s for s, _ in receiver.received] == [500, 500, 500, 200, 200, 200]
    assert [m["type"].split(".")[1] for m in receiver.delivered()] == [
        "created",
        "moved",
        "checked_in",
    ]
    assert receiver.bad_signatures == 0
    # Every try is logged with its status and what the receiver said.
    tries = WebhookAttempt.objects.filter(delivery=first).order_by("at")
    assert [(t.status_code, t.response_excerpt) for t in tries] == [
        (500, "receiver says no"),
        (500, "receiver says no"),
        (500, "receiver says no"),
        (200, '{"ok": true}'),
    ]
    # Retries go on for more than a day before a change is given up.
    assert sum((backoff(n) for n in range(1, MAX_ATTEMPTS)), timedelta()) > timedelta(days=1)


def test_410_gone_disables_the_endpoint():
    slot = SlotFactory(capacity=3)
    with Receiver(SECRET, answers=[410]) as receiver:
        endpoint = endpoint_for(slot.tournament, receiver)
        life_of_a_registration(slot)
        run_worker()
        services.registration_create(
            tournament=slot.tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="t"
        )
        run_worker()
    endpoint.refresh_from_db()
    slot.tournament.refresh_from_db()
    assert not endpoint.active and "410 Gone" in endpoint.disabled_reason
    assert not slot.tournament.has_webhooks
    assert len(receiver.received) == 1
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"failed"}
    assert WebhookDelivery.objects.count() == 3  # nothing written once it was off


def test_nothing_is_delivered_for_a_change_that_rolled_back():
    slot = SlotFactory(capacity=3)
    with Receiver(SECRET) as receiver:
        endpoint_for(slot.tournament, receiver)
        with pytest.raises(RuntimeError), transaction.atomic():
            life_of_a_registration(slot)
            assert DBTaskResult.objects.count() == 3
            raise RuntimeError("rolled back")
        run_worker()
        time_passes()
        run_worker()
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()


def test_a_delivery_a_dead_worker_left_is_sent_again_later():
    slot = SlotFactory(capacity=3)
    with Receiver(SECRET) as receiver:
        endpoint_for(slot.tournament, receiver)
        services.registration_create(
            tournament=slot.tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="t"
        )
        DBTaskResult.objects.all().delete()
        WebhookDelivery.objects.update(
            state="sending", claimed_at=timezone.now() - timedelta(hours=1), attempts=1
        )
        assert webhooks_requeue_stuck() == 1
        call_command("run_periodic_jobs", verbosity=0)
        run_worker()
    assert len(receiver.delivered()) == 1
    assert WebhookDelivery.objects.get().state == "sent"


def test_two_workers_never_send_a_row_twice_and_keep_each_registrations_order():
    """Workers race over the same registrations; the receiver is slow, to widen the window.
    Every row arrives exactly once, and per registration in the order of its changes."""
    slot = SlotFactory(capacity=20)
    with Receiver(SECRET, delay=0.01) as receiver:
        endpoint_for(slot.tournament, receiver)
        registrations = [life_of_a_registration(slot) for _ in range(4)]
        DBTaskResult.objects.all().delete()  # the workers below stand in for the tasks
        barrier = threading.Barrier(4)
        errors = []

        def worker():
            try:
                barrier.wait(timeout=10)
                for _ in range(3):
                    for registration in registrations:
                        webhooks_deliver(registration_id=registration.pk)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    delivered = receiver.delivered()
    ids = [m["id"] for m in delivered]
    assert len(ids) == len(set(ids)) == 12
    for registration in registrations:
        versions = [
            m["data"]["version"] for m in delivered if m["data"]["id"] == str(registration.pk)
        ]
        assert versions == [1, 2, 3]
    assert WebhookAttempt.objects.count() == 12
