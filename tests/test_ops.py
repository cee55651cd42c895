"""Health and readiness, the metrics endpoint and its counters, request ids and the client's
address behind a proxy."""

from unittest import mock

import pytest
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone
from prometheus_client import REGISTRY

from common.checks import check_client_ip_header_is_trusted
from common.locking import Busy
from config import ops
from config.client_ip import client_ip
from registrations import services
from registrations.models import Notification
from tests.conftest import form_data, signup_url
from tests.factories import ParticipantFactory
from tests.registrations.test_notifications import FlakyBackend

pytestmark = pytest.mark.django_db


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- /healthz and /readyz ------------------------------------------------------------------


def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_database_cache_and_migrations(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": True,
        "cache": True,
        "migrations": True,
    }


def test_readyz_is_503_when_the_database_is_down(client):
    with mock.patch.object(ops, "_database_ok", side_effect=OSError("down")):
        response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["database"] is False


def test_readyz_is_503_while_a_migration_is_pending(client, monkeypatch):
    monkeypatch.setattr(ops, "_migrations_checked", (0.0, False))
    with mock.patch("config.ops.MigrationExecutor") as executor:
        executor.return_value.migration_plan.return_value = [("app", "0099")]
        response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["migrations"] is False
    monkeypatch.setattr(ops, "_migrations_checked", (0.0, False))


def test_the_migration_check_is_cached_for_a_few_seconds(client, monkeypatch):
    monkeypatch.setattr(ops, "_migrations_checked", (0.0, False))
    with mock.patch("config.ops.MigrationExecutor", wraps=ops.MigrationExecutor) as executor:
        for _ in range(3):
            assert client.get("/readyz").status_code == 200
    assert executor.call_count == 1


def test_probes_skip_the_host_check_and_the_https_redirect(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["lineup.example.org"]
    client = Client(HTTP_HOST="10.0.0.7:8000")
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 400  # everything else is still checked


# --- /metrics -------------------------------------------------------------------------------


def test_metrics_answer_an_allowed_address(client):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_view_transport_method_total" in response.content
    assert b"lineup_signups_total" in response.content


def test_metrics_are_not_public(client, settings):
    settings.LINEUP_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404
    right = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token"
    )
    assert right.status_code == 200


def test_a_sign_up_and_a_refusal_are_counted(client, slot, participant):
    signups = sample("lineup_signups_total")
    clashes = sample("lineup_refusals_total", kind="clash")
    url = signup_url(slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=slot.pk, contact_phone="5550101")
    assert client.post(url, data).status_code == 302
    again = form_data(client, url, slot=slot.pk, contact_phone="5550101")
    assert client.post(url, again).status_code == 400  # already signed up

    scraped = client.get("/metrics").content.decode()

    assert sample("lineup_signups_total") == signups + 1
    assert sample("lineup_refusals_total", kind="clash") == clashes + 1
    assert f"lineup_signups_total {signups + 1}" in scraped


def test_the_e_mail_queue_depth_is_read_at_each_scrape(client, slot):
    services.registration_create(
        tournament=slot.tournament,
        slot_id=slot.pk,
        participant=ParticipantFactory(),
        contact_email="parent@example.com",
        actor="public",
    )
    # The test's transaction never commits, so no task ran: the message waits, queued.

    scraped = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()

    assert 'lineup_task_queue_depth{queue="notifications"} 1.0' in scraped
    Notification.objects.update(state=Notification.State.SENT, sent_at=timezone.now())
    scraped = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'lineup_task_queue_depth{queue="notifications"} 0.0' in scraped


@override_settings(EMAIL_BACKEND="tests.registrations.test_notifications.FlakyBackend")
def test_a_failed_e_mail_attempt_is_counted(slot, django_capture_on_commit_callbacks):
    FlakyBackend.failures = 1
    before = sample("lineup_notification_failures_total", final="false")

    with django_capture_on_commit_callbacks(execute=True):
        services.registration_create(
            tournament=slot.tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            contact_email="parent@example.com",
            actor="public",
        )

    assert sample("lineup_notification_failures_total", final="false") == before + 1


def test_full_busy_and_rate_limited_refusals_are_counted(client, slot, settings):
    before = {k: sample("lineup_refusals_total", kind=k) for k in ("full", "busy", "rate_limited")}
    slot.capacity = 1
    slot.save()
    services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="x"
    )
    url = signup_url(slot.tournament, participant=ParticipantFactory().pk)
    assert (
        client.post(url, form_data(client, url, slot=slot.pk, contact_phone="5550101")).status_code
        == 409
    )
    with mock.patch.object(services, "registration_create", side_effect=Busy()):
        assert (
            client.post(
                url, form_data(client, url, slot=slot.pk, contact_phone="5550101")
            ).status_code
            == 503
        )
    settings.LINEUP_RATE_SIGNUP = "1/h"  # a new rate starts a new count
    statuses = [
        client.post(url, form_data(client, url, slot=slot.pk, contact_phone="5550101")).status_code
        for _ in range(2)
    ]
    assert statuses == [409, 429]

    for kind, more in {"full": 2, "busy": 1, "rate_limited": 1}.items():
        assert sample("lineup_refusals_total", kind=kind) == before[kind] + more, kind


def test_the_locked_transaction_time_is_observed(client, slot, participant):
    before = sample("lineup_locked_transaction_seconds_count", outcome="ok")
    services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=participant, actor="test"
    )
    assert sample("lineup_locked_transaction_seconds_count", outcome="ok") > before


def test_request_latency_is_recorded_by_view(client, slot):
    client.get(reverse("tournaments:detail", args=[slot.tournament.slug]))
    assert sample(
        "django_http_requests_latency_seconds_by_view_method_count",
        view="tournaments:detail",
        method="GET",
    )


# --- request ids ----------------------------------------------------------------------------


def test_every_response_carries_a_request_id(client):
    assert len(client.get("/").headers["X-Request-ID"]) == 32


def test_a_trusted_proxy_passes_its_request_id_and_others_cannot(client, settings):
    settings.LINEUP_TRUSTED_PROXIES = ["10.0.0.1"]
    given = {"HTTP_X_REQUEST_ID": "nginx-abc123def"}
    assert client.get("/", REMOTE_ADDR="10.0.0.1", **given)["X-Request-ID"] == "nginx-abc123def"
    assert client.get("/", REMOTE_ADDR="203.0.113.9", **given)["X-Request-ID"] != "nginx-abc123def"


def test_error_pages_show_the_request_id():
    crash = Client(raise_request_exception=False)
    with mock.patch(
        "tournaments.selectors.tournament_list_public", side_effect=RuntimeError("boom")
    ):
        response = crash.get("/")
    assert response.status_code == 500
    assert response["X-Request-ID"] in response.content.decode()


def test_the_busy_page_shows_the_request_id(client, slot, participant):
    url = signup_url(slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=slot.pk, contact_phone="5550101")
    with mock.patch.object(services, "registration_create", side_effect=Busy()):
        response = client.post(url, data)
    assert response.status_code == 503
    assert response["X-Request-ID"] in response.content.decode()


# --- the client's address -------------------------------------------------------------------


@pytest.fixture
def behind_proxy(settings):
    settings.LINEUP_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.LINEUP_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]


@pytest.mark.parametrize(
    ("remote", "header", "expected"),
    [
        ("127.0.0.1", "198.51.100.4", "198.51.100.4"),  # from the proxy: believed
        ("203.0.113.9", "198.51.100.4", "203.0.113.9"),  # from anyone else: ignored
        ("127.0.0.1", "1.2.3.4, 198.51.100.4, 10.1.2.3", "198.51.100.4"),  # rightmost untrusted
        ("127.0.0.1", "not-an-address", "127.0.0.1"),
        ("127.0.0.1", "", "127.0.0.1"),
    ],
)
def test_the_header_is_believed_only_from_a_trusted_proxy(behind_proxy, remote, header, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=header)
    assert client_ip(request) == expected


def test_rate_limits_count_per_client_behind_the_proxy(client, slot, behind_proxy, settings):
    settings.LINEUP_RATE_SIGNUP = "1/h"
    statuses = []
    for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.2"):
        url = signup_url(slot.tournament, participant=ParticipantFactory().pk)
        data = form_data(client, url, slot=slot.pk, contact_phone="5550101")
        statuses.append(client.post(url, data, HTTP_X_FORWARDED_FOR=ip).status_code)
    assert statuses == [302, 302, 429]


def test_the_deploy_check_warns_about_a_header_without_trusted_proxies(settings):
    settings.LINEUP_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    settings.LINEUP_TRUSTED_PROXIES = []
    (warning,) = check_client_ip_header_is_trusted(None)
    assert warning.id == "lineup.W010"
    settings.LINEUP_TRUSTED_PROXIES = ["127.0.0.1"]
    assert check_client_ip_header_is_trusted(None) == []
