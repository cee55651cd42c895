"""Releasing a no-show's place: through the engine, audited, synced, and offered to the
waitlist in the same transaction; from the admin; and racing a sign-up on PostgreSQL."""

import time

import pytest
from django.urls import reverse
from django.utils import timezone

from common.locking import locked_atomic
from common.models import AuditEvent
from registrations import errors, services
from registrations.models import Registration, WaitlistEntry, WebhookDelivery
from registrations.services import changing
from tests.admin_client import messages_of, post_action
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory, reload
from tests.registrations.test_concurrency import active_seats, race
from tests.registrations.test_webhooks import endpoint_for

Status = Registration.Status
Waiting = WaitlistEntry.Status


def sign_up(slot, **kwargs):
    return services.registration_create(
        tournament=slot.tournament,
        slot_id=slot.pk,
        participant=ParticipantFactory(),
        actor="public",
        **kwargs,
    )


def join(slot):
    return services.waitlist_join(
        tournament=slot.tournament,
        slot_id=slot.pk,
        participant=ParticipantFactory(),
        contact_email="next@example.com",
        actor="public",
    )


def no_show(slot, **kwargs):
    registration = sign_up(slot, **kwargs)
    return services.registration_mark_no_show(registration=registration, actor="door")


@pytest.mark.django_db
class TestService:
    def test_it_frees_the_place_and_records_the_status_before_and_after(self):
        slot = SlotFactory(capacity=1)
        missing = no_show(slot)

        released = services.registration_release_no_show(
            registration=missing, actor="admin:olga", reason="Did not come by 10:00"
        )

        assert released.status == Status.CANCELLED
        assert released.cancel_reason == "No-show: place released. Did not come by 10:00"
        assert reload(slot).reserved_count == active_seats(slot) == 0
        event = AuditEvent.objects.get(action="registration.no_show_released")
        assert event.actor == "admin:olga"
        assert event.payload["status_before"] == Status.NO_SHOW
        assert event.payload["status_after"] == Status.CANCELLED
        assert event.payload["reason"] == "Did not come by 10:00"
        assert event.payload["seats"] == 1

    def test_the_reason_is_optional(self):
        slot = SlotFactory(capacity=1)
        released = services.registration_release_no_show(
            registration=no_show(slot), actor="admin:olga"
        )
        assert released.cancel_reason == "No-show: place released."

    @pytest.mark.parametrize("status", ["confirmed", "checked_in", "cancelled"])
    def test_it_refuses_anything_but_a_no_show_and_changes_nothing(self, status):
        slot = SlotFactory(capacity=2)
        registration = sign_up(slot)
        if status == "checked_in":
            services.registration_check_in(registration=registration, actor="door")
        elif status == "cancelled":
            services.registration_cancel(registration=registration, actor="t")
        taken = reload(slot).reserved_count

        with pytest.raises(errors.StatusConflict, match="not a no-show"):
            services.registration_release_no_show(registration=registration, actor="olga")

        assert reload(registration).status == status
        assert reload(slot).reserved_count == taken
        assert not AuditEvent.objects.filter(action="registration.no_show_released").exists()

    def test_a_stale_version_is_refused(self):
        slot = SlotFactory(capacity=1)
        missing = no_show(slot)
        with pytest.raises(errors.ConcurrentChange):
            services.registration_release_no_show(
                registration=missing, actor="olga", expected_version=missing.version - 1
            )
        assert reload(missing).status == Status.NO_SHOW

    def test_the_freed_place_is_offered_to_the_first_in_line(
        self, mailoutbox, django_capture_on_commit_callbacks
    ):
        slot = SlotFactory(capacity=1)
        missing = no_show(slot, contact_email="late@example.com")
        first, second = join(slot), join(slot)

        with django_capture_on_commit_callbacks(execute=True):
            services.registration_release_no_show(registration=missing, actor="olga")

        first, second = reload(first), reload(second)
        assert first.status == Waiting.OFFERED
        assert first.registration.slot_id == slot.pk
        assert first.registration.status == Status.RESERVED
        assert second.status == Waiting.WAITING
        assert reload(slot).reserved_count == active_seats(slot) == 1  # held by the offer
        subjects = {m.to[0]: m.subject for m in mailoutbox}
        assert "cancelled" in subjects["late@example.com"]
        assert "waitlist" in subjects["next@example.com"].lower()
        offer_mail = next(m for m in mailoutbox if m.to == ["next@example.com"])
        assert f"/r/{first.registration.reference}/" in offer_mail.body

    def test_it_writes_the_webhook_outbox_row(self):
        slot = SlotFactory(capacity=1)
        endpoint_for(slot.tournament)
        missing = no_show(slot)

        services.registration_release_no_show(registration=missing, actor="olga")

        last = WebhookDelivery.objects.filter(registration=missing).order_by("pk").last()
        assert last.event == "registration.cancelled"
        assert last.payload["status"] == Status.CANCELLED

    def test_a_slot_less_tournament_gives_the_cap_place_to_its_waitlist(self):
        tournament = TournamentFactory(max_participants=1)
        registration = services.registration_create(
            tournament=tournament, participant=ParticipantFactory(), actor="public"
        )
        services.registration_mark_no_show(registration=registration, actor="door")
        waiting = services.waitlist_join(
            tournament=tournament,
            participant=ParticipantFactory(),
            contact_email="w@example.com",
            actor="public",
        )

        services.registration_release_no_show(registration=registration, actor="olga")

        assert reload(waiting).status == Waiting.OFFERED


@pytest.mark.django_db
class TestAdmin:
    def test_the_organizer_releases_the_selected_no_shows_with_an_optional_reason(
        self, organizer_client
    ):
        slot = SlotFactory(capacity=3)
        missing, came = no_show(slot), sign_up(slot)
        other = SlotFactory(capacity=1)
        sign_up(other)
        waiting = join(other)

        page = post_action(organizer_client, Registration, "release_no_show", [missing, came])
        content = page.content.decode()
        assert "Release no-show places" in content
        assert "only no-shows are released; skipped" in content
        assert reload(missing).status == Status.NO_SHOW  # nothing until confirmed

        response = post_action(
            organizer_client,
            Registration,
            "release_no_show",
            [missing, came],
            confirm=True,
            reason="",
        )

        assert reload(missing).status == Status.CANCELLED
        assert reload(came).status == Status.CONFIRMED
        assert reload(slot).reserved_count == 1
        said = messages_of(response)
        assert any("1 registration released" in m for m in said), said
        assert any("not marked as no-show; left as they are" in m for m in said), said
        event = AuditEvent.objects.get(action="registration.no_show_released")
        assert event.actor.startswith("admin:")
        assert reload(waiting).status == Waiting.WAITING  # another slot's list is untouched

    def test_a_reason_given_in_the_admin_is_kept(self, organizer_client):
        slot = SlotFactory(capacity=1)
        missing = no_show(slot)
        post_action(
            organizer_client,
            Registration,
            "release_no_show",
            [missing],
            confirm=True,
            reason="Gone home",
        )
        event = AuditEvent.objects.get(action="registration.no_show_released")
        assert event.payload["reason"] == "Gone home"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres")
class TestRace:
    @pytest.fixture(autouse=True)
    def patient_locks(self, settings):
        settings.LINEUP_LOCK_TIMEOUT_MS = 20_000

    def test_a_release_and_public_sign_ups_at_the_same_moment_the_waitlist_gets_the_place(
        self, monkeypatch
    ):
        real = changing.release_places

        def slow_release(*args, **kwargs):  # the sign-ups queue on the slot's lock
            real(*args, **kwargs)
            time.sleep(0.2)

        monkeypatch.setattr(changing, "release_places", slow_release)
        for _ in range(3):
            slot = SlotFactory(capacity=1)
            missing = no_show(slot)
            first, second = join(slot), join(slot)

            results = race(
                5,
                lambda i, slot=slot, missing=missing: (
                    services.registration_release_no_show(registration=missing, actor="olga")
                    if i == 0
                    else sign_up(slot)
                ),
            )

            assert isinstance(results[0], Registration), results[0]
            assert all(isinstance(r, errors.SlotFull) for r in results[1:]), results
            assert reload(first).status == Waiting.OFFERED
            assert reload(second).status == Waiting.WAITING
            assert reload(slot).reserved_count == active_seats(slot) == 1
            assert Registration.objects.filter(slot=slot, status=Status.RESERVED).count() == 1

    def test_negative_control_an_offer_made_after_commit_loses_the_place_to_a_sign_up(
        self, monkeypatch
    ):
        """Hand the place to the waitlist in a second transaction after the release commits:
        a sign-up queued on the slot's lock takes it first. The harness sees the race the
        test above closes."""
        real_release = changing.release_places

        def slow_release(*args, **kwargs):
            real_release(*args, **kwargs)
            time.sleep(0.2)

        monkeypatch.setattr(changing, "release_places", slow_release)
        real_offer = changing.waitlist_place_released
        monkeypatch.setattr(changing, "waitlist_place_released", lambda *a, **k: None)

        def release_then_offer(registration):
            released = services.registration_release_no_show(registration=registration, actor="o")
            time.sleep(0.05)
            with locked_atomic():
                real_offer(
                    released,
                    slot_id=registration.slot_id,
                    offer_outcome=Waiting.LEFT,
                    now=timezone.now(),
                    actor="o",
                )
            return released

        lost = 0
        for _ in range(3):
            slot = SlotFactory(capacity=1)
            missing = no_show(slot)
            first = join(slot)
            results = race(
                5,
                lambda i, slot=slot, missing=missing: (
                    release_then_offer(missing) if i == 0 else sign_up(slot)
                ),
            )
            signed_up = sum(isinstance(r, Registration) for r in results[1:])
            lost += signed_up
            assert reload(slot).reserved_count == active_seats(slot) == 1  # never overbooked
            assert (reload(first).status == Waiting.WAITING) == (signed_up == 1)
        assert lost >= 1  # but a sign-up took the place, not the first in line

    def test_two_organizers_releasing_the_same_no_show_release_it_once(self):
        slot = SlotFactory(capacity=1)
        missing = no_show(slot)
        first, second = join(slot), join(slot)

        results = race(
            2,
            lambda i: services.registration_release_no_show(registration=missing, actor=f"olga{i}"),
        )

        assert sum(isinstance(r, Registration) for r in results) == 1
        assert sum(isinstance(r, errors.StatusConflict) for r in results) == 1, results
        assert AuditEvent.objects.filter(action="registration.no_show_released").count() == 1
        assert reload(first).status == Waiting.OFFERED
        assert reload(second).status == Waiting.WAITING
        assert reload(slot).reserved_count == active_seats(slot) == 1


@pytest.mark.django_db
class TestCheckInPage:
    def tap_release(self, client, registration):
        registration = reload(registration)
        return client.post(
            reverse("admin:registrations_check_in_act", args=[registration.pk]),
            {"action": "release", "version": registration.version, "next": "/admin/"},
        )

    def test_an_organizer_sees_and_uses_the_release_button(self, organizer_client):
        slot = SlotFactory(capacity=1)
        missing = no_show(slot)
        page_url = reverse("admin:registrations_check_in", args=[slot.tournament.pk])

        assert "Release place" in organizer_client.get(page_url).content.decode()
        response = self.tap_release(organizer_client, missing)

        assert response.status_code == 302
        assert reload(missing).status == Status.CANCELLED
        assert any("place is released" in m for m in messages_of(response))

    def test_a_volunteer_has_no_button_and_is_refused(self, volunteer_client):
        slot = SlotFactory(capacity=1)
        missing = no_show(slot)
        page_url = reverse("admin:registrations_check_in", args=[slot.tournament.pk])

        assert "Release place" not in volunteer_client.get(page_url).content.decode()
        assert self.tap_release(volunteer_client, missing).status_code == 403
        assert reload(missing).status == Status.NO_SHOW
        assert reload(slot).reserved_count == 1
