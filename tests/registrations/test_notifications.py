"""E-mails: what each kind says, the organizers' own texts, and the outbox that sends them."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from registrations import services
from registrations.models import Notification, NotificationText
from registrations.notifications.messages import preview
from registrations.notifications.outbox import (
    MAX_ATTEMPTS,
    notification_send,
    notifications_enqueue_due,
    notifications_requeue_stuck,
)
from registrations.notifications.reminders import reminders_queue
from tests.factories import ParticipantFactory, SlotFactory

pytestmark = pytest.mark.django_db
State = Notification.State


def sign_up(slot, *, email="parent@example.com", **kwargs):
    return services.registration_create(
        tournament=slot.tournament,
        slot_id=slot.pk,
        participant=ParticipantFactory(),
        contact_email=email,
        contact_name="Pat",
        actor="public",
        **kwargs,
    )


def html_of(message):
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


class FlakyBackend:
    """An e-mail backend that fails its first `failures` sends, then delivers to the outbox."""

    failures = 0

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise ConnectionRefusedError("SMTP server down")
        mail.outbox.extend(messages)
        return len(messages)


# --- what each kind says ----------------------------------------------------------------------


class TestContent:
    def test_a_confirmation_has_the_time_room_and_private_link_in_text_and_html(
        self, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            registration = sign_up(slot)
        (message,) = mailoutbox
        assert message.subject == f"Your place is confirmed: {slot.tournament.name}"
        assert "Hello Pat," in message.body
        assert f"{registration.entrant_name} is signed up" in message.body
        assert str(slot.location) in message.body
        assert f"/r/{registration.reference}/" in message.body
        html = html_of(message)
        assert f'/r/{registration.reference}/"' in html
        assert str(slot.location) in html
        assert Notification.objects.get().state == State.SENT

    def test_a_hold_asks_to_confirm_before_its_deadline(
        self, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        slot.tournament.hold_minutes = 30
        slot.tournament.save(update_fields=["hold_minutes"])
        with django_capture_on_commit_callbacks(execute=True):
            sign_up(slot, hold=True)
        (message,) = mailoutbox
        assert message.subject.startswith("Please confirm your place")
        assert "Please confirm it before" in message.body
        assert "Confirm, view or cancel it" in html_of(message)

    def test_a_cancellation_gives_the_reason(
        self, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        registration = sign_up(slot)
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.registration_cancel(
                registration=registration, actor="organizer", reason="Illness <b>"
            )
        (message,) = mailoutbox
        assert message.subject.startswith("Your registration was cancelled")
        assert "Reason: Illness <b>" in message.body
        assert "Reason: Illness &lt;b&gt;" in html_of(message)

    def test_a_move_shows_the_old_and_the_new_time(
        self, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        later = SlotFactory(
            time_block__tournament=slot.tournament, starts_at=slot.starts_at + timedelta(hours=2)
        )
        registration = sign_up(slot)
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.registration_move(
                registration=registration, to_slot_id=later.pk, actor="organizer"
            )
        (message,) = mailoutbox
        old, new = (
            f"{s.starts_at.astimezone(timezone.get_current_timezone()):%H:%M}"
            for s in (slot, later)
        )
        assert message.subject.startswith("Your time has changed")
        was = next(line for line in message.body.splitlines() if line.startswith("Was:"))
        now = next(line for line in message.body.splitlines() if line.startswith("Now:"))
        assert old in was and new in now
        assert str(later.location) in now
        html = html_of(message)
        assert old in html and new in html
        data = Notification.objects.get(kind="moved").data
        assert old in data["old"]["time"] and new in data["new"]["time"]

    def test_an_override_into_a_full_slot_is_a_move_message_too(
        self, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        full = SlotFactory(
            time_block__tournament=slot.tournament, starts_at=slot.starts_at + timedelta(hours=3)
        )
        sign_up(full, email="")
        registration = sign_up(slot)
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.registration_move(
                registration=registration,
                to_slot_id=full.pk,
                actor="organizer",
                override_reason="Judge's request",
            )
        (message,) = mailoutbox
        assert "Was:" in message.body and "Now:" in message.body

    def test_no_address_means_no_message_row(self, slot, mailoutbox):
        sign_up(slot, email="")
        assert not Notification.objects.exists()


# --- the organizers' own texts ----------------------------------------------------------------


class TestOrganizerTexts:
    def test_the_placeholders_are_filled_in_subject_and_intro(
        self, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        NotificationText.objects.create(
            tournament=slot.tournament,
            kind="confirmed",
            subject="See you, {entrant}!",
            intro="{entrant} plays in {room} at {time} ({tournament}).",
        )
        with django_capture_on_commit_callbacks(execute=True):
            registration = sign_up(slot)
        (message,) = mailoutbox
        assert message.subject == f"See you, {registration.entrant_name}!"
        assert f"{registration.entrant_name} plays in {slot.location} at " in message.body
        assert f"({slot.tournament.name})" in message.body

    def test_hostile_text_stays_inert_and_is_escaped_in_html(
        self, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        hostile = (
            "{registration.__class__} {entrant.__class__} {{ secret }} {% now 'Y' %} "
            "<script>x</script> {entrant:>999}"
        )
        NotificationText.objects.create(
            tournament=slot.tournament,
            kind="confirmed",
            subject="Hi\nBcc: x@evil.test {0}",
            intro=hostile,
        )
        with django_capture_on_commit_callbacks(execute=True):
            sign_up(slot)
        (message,) = mailoutbox
        assert message.subject == "Hi Bcc: x@evil.test {0}"  # one header line, braces as typed
        assert hostile in message.body
        html = html_of(message)
        assert "{registration.__class__}" in html and "{{ secret }}" in html
        assert "<script>" not in html and "&lt;script&gt;" in html

    def test_the_preview_uses_the_texts_without_saving_anything(self, slot):
        subject, text, html = preview(
            slot.tournament, "moved", subject="Moved: {entrant}", intro="<b>{room}</b>"
        )
        assert subject == "Moved: Alex Example"
        assert "<b>Hall A</b>" in text and "&lt;b&gt;Hall A&lt;/b&gt;" in html
        assert "Was:" in text
        assert not Notification.objects.exists()

    def test_the_admin_shows_a_preview(self, admin_client, slot):
        text = NotificationText.objects.create(
            tournament=slot.tournament, kind="reminder", intro="Bring {room} shoes"
        )
        response = admin_client.get(f"/admin/registrations/notificationtext/{text.pk}/change/")
        assert response.status_code == 200
        assert "Bring Hall A shoes" in response.content.decode()


# --- the outbox -------------------------------------------------------------------------------


class TestOutbox:
    def test_a_rolled_back_registration_leaves_no_row_and_sends_nothing(
        self, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            sign_up(slot)
            assert Notification.objects.count() == 1  # written with the registration
            raise RuntimeError("the request failed after the reservation")
        assert not Notification.objects.exists()
        assert mailoutbox == []

    @override_settings(EMAIL_BACKEND="tests.registrations.test_notifications.FlakyBackend")
    def test_a_failing_backend_is_retried_with_backoff_then_succeeds(
        self, slot, django_capture_on_commit_callbacks
    ):
        FlakyBackend.failures = 2
        mail.outbox = []
        with django_capture_on_commit_callbacks(execute=True):
            sign_up(slot)
        notification = Notification.objects.get()
        assert (notification.state, notification.attempts) == (State.QUEUED, 1)
        assert "SMTP server down" in notification.error
        first_wait = notification.next_attempt_at - timezone.now()
        assert timedelta(seconds=50) < first_wait <= timedelta(minutes=1)

        # Not due yet: the periodic job leaves it alone.
        with django_capture_on_commit_callbacks(execute=True):
            assert notifications_enqueue_due() == 0
        later = notification.next_attempt_at + timedelta(seconds=1)
        with django_capture_on_commit_callbacks(execute=True):
            assert notifications_enqueue_due(now=later) == 1
        # The task ran at the real time, before the retry was due: nothing happened.
        notification.refresh_from_db()
        assert notification.attempts == 1
        Notification.objects.update(next_attempt_at=timezone.now())
        assert notification_send(notification_id=notification.pk) is False  # second failure
        notification.refresh_from_db()
        assert notification.attempts == 2
        assert (
            timedelta(seconds=110)
            < notification.next_attempt_at - timezone.now()
            <= timedelta(minutes=2)
        )

        Notification.objects.update(next_attempt_at=timezone.now())
        assert notification_send(notification_id=notification.pk) is True
        notification.refresh_from_db()
        assert (notification.state, notification.attempts, notification.error) == (
            State.SENT,
            3,
            "",
        )
        assert len(mail.outbox) == 1

    @override_settings(EMAIL_BACKEND="tests.registrations.test_notifications.FlakyBackend")
    def test_it_gives_up_after_the_last_attempt(self, slot):
        FlakyBackend.failures = 100
        sign_up(slot)
        Notification.objects.update(attempts=MAX_ATTEMPTS - 1, next_attempt_at=timezone.now())
        assert notification_send(notification_id=Notification.objects.get().pk) is False
        assert Notification.objects.get().state == State.FAILED
        FlakyBackend.failures = 0

    def test_a_message_is_sent_once_even_if_two_tasks_ask(
        self, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            sign_up(slot)
        pk = Notification.objects.get().pk
        assert notification_send(notification_id=pk) is False
        assert len(mailoutbox) == 1

    def test_the_sweep_requeues_a_message_a_dead_worker_left_sending(
        self, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        sign_up(slot)  # the task never runs: its callback is not executed
        started = timezone.now() - timedelta(minutes=6)
        Notification.objects.update(state=State.SENDING, claimed_at=started, attempts=1)
        fresh = sign_up(SlotFactory(), email="other@example.com")
        Notification.objects.filter(registration=fresh).update(
            state=State.SENDING, claimed_at=timezone.now(), attempts=1
        )
        assert notifications_requeue_stuck() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert notifications_enqueue_due() == 1
        (message,) = mailoutbox
        assert message.to == ["parent@example.com"]
        states = dict(Notification.objects.values_list("recipient", "state"))
        assert states == {"parent@example.com": State.SENT, "other@example.com": State.SENDING}


# --- reminders --------------------------------------------------------------------------------


class TestReminders:
    def test_one_reminder_however_often_the_job_runs_and_a_new_one_after_a_move(
        self, mailoutbox, django_capture_on_commit_callbacks
    ):
        soon = timezone.now() + timedelta(hours=20)
        slot = SlotFactory(starts_at=soon, capacity=2)
        later = SlotFactory(
            time_block__tournament=slot.tournament, starts_at=soon + timedelta(hours=2)
        )
        registration = sign_up(slot)
        sign_up(SlotFactory())  # the day after tomorrow: not yet
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert reminders_queue() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert reminders_queue() == 0
        (reminder,) = mailoutbox
        assert reminder.subject.startswith(f"Reminder: {slot.tournament.name}")
        assert str(slot.location) in reminder.body

        services.registration_move(registration=registration, to_slot_id=later.pk, actor="o")
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert reminders_queue() == 1
            assert reminders_queue() == 0
        (again,) = mailoutbox
        assert again.subject.startswith("Reminder")
        assert Notification.objects.filter(kind="reminder", state=State.SENT).count() == 2

    def test_cancelled_and_addressless_registrations_get_none(self):
        slot = SlotFactory(starts_at=timezone.now() + timedelta(hours=3), capacity=3)
        services.registration_cancel(registration=sign_up(slot), actor="o", reason="x")
        sign_up(slot, email="")
        assert reminders_queue() == 0
