"""Sync to other systems: URL checks, signatures, the outbox rows every change writes (and
never for a rollback), the endpoints' flag, and the back office."""

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from registrations import services
from registrations.errors import UnsafeWebhookURL
from registrations.models import WebhookDelivery, WebhookEndpoint
from registrations.sync.endpoints import webhook_endpoint_disable, webhook_endpoint_save
from registrations.sync.http import webhook_signature, webhook_url_check
from tests.admin_client import changelist_url, messages_of, post_action
from tests.factories import ParticipantFactory, SlotFactory

pytestmark = pytest.mark.django_db
Event = WebhookEndpoint.Event
LOCAL = override_settings(LINEUP_WEBHOOKS_ALLOW_PRIVATE=True)


def endpoint_for(tournament, *, events=(), url="http://127.0.0.1:9/hook"):
    with LOCAL:
        return webhook_endpoint_save(
            endpoint=WebhookEndpoint(tournament=tournament, url=url, events=list(events)),
            actor="test",
        )


def sign_up(slot, **kwargs):
    return services.registration_create(
        tournament=slot.tournament,
        slot_id=slot.pk,
        participant=ParticipantFactory(),
        actor="test",
        **kwargs,
    )


def events_of(registration):
    return list(
        WebhookDelivery.objects.filter(registration=registration)
        .order_by("id")
        .values_list("event", flat=True)
    )


# --- URLs and signatures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "javascript:alert(1)",
        "http:///nohost",
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",
        "http://user:password@93.184.215.14/hook",
        "http://no-such-host.invalid/hook",
    ],
)
def test_it_refuses_urls_that_are_not_public_http(url):
    with pytest.raises(UnsafeWebhookURL):
        webhook_url_check(url)


def test_it_accepts_a_public_address():
    assert webhook_url_check("https://93.184.215.14/hook") == ["93.184.215.14"]


@LOCAL
def test_the_setting_allows_local_receivers():
    assert webhook_url_check("http://127.0.0.1:8123/hook") == ["127.0.0.1"]
    with pytest.raises(UnsafeWebhookURL):
        webhook_url_check("gopher://127.0.0.1/")


def test_the_signature_matches_the_standard_webhooks_example():
    # The example in the Standard Webhooks specification's reference implementations.
    assert (
        webhook_signature(
            secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp=1614265330,
            body=b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


# --- endpoints and the tournament's flag ------------------------------------------------------


def test_saving_an_endpoint_marks_its_tournament_and_switching_off_clears_it(tournament):
    endpoint = endpoint_for(tournament)
    tournament.refresh_from_db()
    assert tournament.has_webhooks
    endpoint.active = False
    with LOCAL:
        webhook_endpoint_save(endpoint=endpoint, actor="test")
    tournament.refresh_from_db()
    assert not tournament.has_webhooks


def test_a_private_url_is_refused_on_save_and_nothing_is_saved(tournament):
    with pytest.raises(UnsafeWebhookURL):
        webhook_endpoint_save(
            endpoint=WebhookEndpoint(tournament=tournament, url="http://127.0.0.1/"), actor="t"
        )
    assert not WebhookEndpoint.objects.exists()
    tournament.refresh_from_db()
    assert not tournament.has_webhooks


# --- the outbox -------------------------------------------------------------------------------


def test_without_endpoints_no_change_writes_an_outbox_row(slot):
    registration = sign_up(slot)
    services.registration_cancel(registration=registration, actor="test")
    assert not WebhookDelivery.objects.exists()


def test_every_change_writes_its_event_with_a_snapshot(slot):
    endpoint_for(slot.tournament)
    other = SlotFactory(time_block__tournament=slot.tournament, capacity=2)
    type(slot.tournament).objects.filter(pk=slot.tournament.pk).update(hold_minutes=30)
    registration = sign_up(slot, contact_email="a@example.com", hold=True)
    services.registration_confirm(registration=registration, actor="test")
    services.registration_move(registration=registration, to_slot_id=other.pk, actor="test")
    services.registration_update_contact(
        registration=registration, actor="test", contact_phone="+44 1"
    )
    services.registration_check_in(registration=registration, actor="test")
    assert events_of(registration) == [
        Event.CREATED,
        Event.CONFIRMED,
        Event.MOVED,
        Event.UPDATED,
        Event.CHECKED_IN,
    ]
    latest = WebhookDelivery.objects.filter(registration=registration).latest("id").payload
    assert latest["status"] == "checked_in"
    assert latest["slot_id"] == str(other.pk)
    assert latest["contact_phone"] == "+44 1"
    assert "reference" not in latest  # the entrant's private key stays private


def test_an_endpoint_gets_only_the_events_it_chose(slot):
    chosen = endpoint_for(slot.tournament, events=[Event.CANCELLED])
    everything = endpoint_for(slot.tournament)
    registration = sign_up(slot)
    services.registration_cancel(registration=registration, actor="test")
    assert list(chosen.deliveries.values_list("event", flat=True)) == [Event.CANCELLED]
    assert everything.deliveries.count() == 2


def test_slot_and_tournament_cancels_and_merges_write_rows(slot):
    endpoint_for(slot.tournament)
    in_slot, other = sign_up(slot), sign_up(slot)
    services.slot_cancel(slot=slot, actor="test")
    assert events_of(in_slot)[-1] == events_of(other)[-1] == Event.CANCELLED

    later = SlotFactory(time_block__tournament=slot.tournament, capacity=3)
    kept, duplicate = ParticipantFactory(), ParticipantFactory()
    moved = services.registration_create(
        tournament=slot.tournament, slot_id=later.pk, participant=duplicate, actor="t"
    )
    services.participant_merge(keep=kept, duplicate=duplicate, actor="test")
    merged = WebhookDelivery.objects.filter(registration=moved).latest("id")
    assert (merged.event, merged.payload["participant_id"]) == (Event.UPDATED, str(kept.pk))

    services.tournament_cancel(tournament=slot.tournament, actor="test")
    assert events_of(moved)[-1] == Event.CANCELLED


def test_a_rolled_back_change_leaves_no_outbox_row(slot):
    endpoint_for(slot.tournament)
    with pytest.raises(RuntimeError), transaction.atomic():
        sign_up(slot)
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError("rolled back")
    assert not WebhookDelivery.objects.exists()


@pytest.mark.usefixtures("postgres")
def test_a_reservation_with_webhooks_adds_one_outbox_insert(slot):
    """Without webhooks the engine's budget stands (test_registering); with them the change
    adds the read of its endpoints and one INSERT for all of them (and the task's, which the
    immediate backend of the tests runs after commit)."""
    endpoint_for(slot.tournament)
    endpoint_for(slot.tournament, url="http://127.0.0.1:10/other")
    with CaptureQueriesContext(connection) as captured:
        sign_up(slot)
    sql = [q["sql"] for q in captured]
    outbox = [s for s in sql if s.startswith('INSERT INTO "registrations_webhookdelivery"')]
    assert len(outbox) == 1
    assert (
        sum('FROM "registrations_webhookendpoint"' in s for s in sql[: sql.index(outbox[0])]) == 1
    )


# --- the back office --------------------------------------------------------------------------


def test_the_admin_refuses_a_private_url_and_saves_a_local_one_when_allowed(
    admin_client, tournament
):
    data = {"tournament": tournament.pk, "url": "http://10.0.0.1/hook", "active": "on"}
    data["secret"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    page = admin_client.post("/admin/registrations/webhookendpoint/add/", data)
    assert "private or local address" in page.content.decode()
    with LOCAL:
        admin_client.post("/admin/registrations/webhookendpoint/add/", data, follow=True)
    tournament.refresh_from_db()
    assert tournament.has_webhooks and WebhookEndpoint.objects.count() == 1


def test_the_admin_shows_sync_status_and_sends_again(admin_client, slot):
    endpoint = endpoint_for(slot.tournament)
    synced, failed, pending = sign_up(slot), sign_up(slot), sign_up(SlotFactory())
    endpoint_for(pending.tournament)
    services.registration_cancel(registration=pending, actor="test")
    WebhookDelivery.objects.filter(registration=synced).update(state="sent")
    WebhookDelivery.objects.filter(registration=failed).update(state="failed", error="HTTP 500")

    listing = admin_client.get(changelist_url(type(synced)))
    assert listing.context["cl"].result_count == 3
    for status, registration in (("synced", synced), ("failed", failed), ("pending", pending)):
        filtered = admin_client.get(changelist_url(type(synced)) + f"?sync={status}")
        assert list(filtered.context["cl"].result_list) == [registration]
    page = admin_client.get(f"/admin/registrations/registration/{failed.pk}/change/")
    assert "Sync to other systems" in page.content.decode() and "HTTP 500" in page.content.decode()

    response = post_action(
        admin_client,
        WebhookDelivery,
        "send_again",
        list(endpoint.deliveries.filter(state="failed")),
    )
    assert "Queued 1 delivery again." in messages_of(response)
    again = WebhookDelivery.objects.get(registration=failed)
    assert (again.state, again.attempts, again.error) == ("queued", 0, "")


def test_webhook_endpoint_disable_fails_what_was_queued(slot):
    endpoint = endpoint_for(slot.tournament)
    sign_up(slot)
    assert webhook_endpoint_disable(endpoint=endpoint, reason="410") == 1
    slot.tournament.refresh_from_db()
    assert not slot.tournament.has_webhooks
    assert WebhookDelivery.objects.get().state == "failed"
