"""The "you joined the waitlist" e-mail: queued with the entry, sent by the worker, with the
private waitlist link and the place in line; worded per tournament; in the e-mail admin."""

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from registrations import services
from registrations.errors import AlreadyWaiting
from registrations.models import Notification, NotificationText, WaitlistEntry
from registrations.notifications.messages import preview
from registrations.notifications.outbox import notification_send
from tests.admin_client import changelist_url, messages_of, post_action
from tests.factories import ParticipantFactory, SlotFactory, register_someone
from tests.registrations.test_notifications import FlakyBackend

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


@pytest.fixture
def full_slot():
    slot = SlotFactory(capacity=1, time_block__tournament__name="Spring Piano")
    register_someone(slot)
    return slot


def join(slot, first="Wanda", email="wanda@example.com", **kwargs):
    return services.waitlist_join(
        tournament=slot.tournament,
        slot_id=slot.pk,
        participant=ParticipantFactory(first_name=first, last_name="B."),
        contact_email=email,
        contact_name="Pat",
        actor="public",
        **kwargs,
    )


def joined_mails(outbox):
    return [m for m in outbox if "on the waitlist" in m.subject]


def test_joining_sends_the_private_link_and_the_place_in_line(
    full_slot, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        join(full_slot, "Ann", "ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        entry = join(full_slot)

    second = next(m for m in joined_mails(mailoutbox) if m.to == ["wanda@example.com"])
    assert second.subject == "You are on the waitlist: Spring Piano"
    link = f"/w/{entry.reference}/"
    assert link in second.body
    assert "Your place in line: number 2." in second.body
    assert "Wanda B. is on the waitlist of Spring Piano for " in second.body
    html, mimetype = second.alternatives[0]
    assert mimetype == "text/html"
    assert f'{link}">' in html
    assert "<strong>2</strong>" in html
    notification = Notification.objects.get(waitlist_entry=entry)
    assert (notification.kind, notification.state, notification.registration) == (
        Kind.WAITLIST_JOINED,
        Notification.State.SENT,
        None,
    )


def test_the_place_in_line_is_as_it_stands_when_the_message_goes(
    full_slot, mailoutbox, django_capture_on_commit_callbacks
):
    first = join(full_slot, "Ann", "ann@example.com")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        join(full_slot)
    services.waitlist_leave(entry=first, actor="public")  # before the worker gets to it
    for callback in callbacks:
        callback()
    (mail_,) = [m for m in joined_mails(mailoutbox) if m.to == ["wanda@example.com"]]
    assert "Your place in line: number 1." in mail_.body


def test_a_refused_join_sends_nothing(full_slot, mailoutbox, django_capture_on_commit_callbacks):
    entry = join(full_slot)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(AlreadyWaiting):
        services.waitlist_join(
            tournament=full_slot.tournament,
            slot_id=full_slot.pk,
            participant=entry.participant,
            contact_email="again@example.com",
            actor="public",
        )
    assert Notification.objects.filter(kind=Kind.WAITLIST_JOINED).count() == 1
    assert not [m for m in mailoutbox if m.to == ["again@example.com"]]


def test_a_tournament_words_it_in_its_own_way(
    full_slot, mailoutbox, django_capture_on_commit_callbacks
):
    NotificationText.objects.create(
        tournament=full_slot.tournament,
        kind=Kind.WAITLIST_JOINED,
        subject="{entrant}: you are in the queue for {tournament}",
        intro="Hang on, {entrant}! {time} {room}",
    )
    with django_capture_on_commit_callbacks(execute=True):
        join(full_slot)
    (message,) = [m for m in mailoutbox if m.to == ["wanda@example.com"]]
    assert message.subject == "Wanda B.: you are in the queue for Spring Piano"
    assert "Hang on, Wanda B.! " in message.body
    assert str(full_slot.location) in message.body


def test_the_preview_of_the_kind_shows_a_made_up_entry():
    slot = SlotFactory()
    subject, text, html = preview(slot.tournament, Kind.WAITLIST_JOINED, subject="", intro="")
    assert subject == f"You are on the waitlist: {slot.tournament.name}"
    assert "Alex Example" in text and "number 3" in text and "/w/sample/" in html
    assert not Notification.objects.exists()


def test_a_notification_is_about_exactly_one_thing(full_slot):
    entry = join(full_slot)
    registration = full_slot.registrations.get()
    common = {"kind": Kind.WAITLIST_JOINED, "recipient": "x@example.com"}
    for about in ({}, {"registration": registration, "waitlist_entry": entry}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Notification.objects.create(next_attempt_at=timezone.now(), **common, **about)


@override_settings(EMAIL_BACKEND="tests.registrations.test_notifications.FlakyBackend")
def test_a_failed_send_is_retried_like_any_other(full_slot, django_capture_on_commit_callbacks):
    FlakyBackend.failures = 1
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        entry = join(full_slot)
    notification = Notification.objects.get(waitlist_entry=entry)
    assert (notification.state, notification.attempts) == (Notification.State.QUEUED, 1)
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
    assert notification_send(notification_id=notification.pk) is True
    assert [m.to for m in mail.outbox] == [["wanda@example.com"]]


class TestAdmin:
    def test_the_e_mail_list_shows_and_finds_it_and_sends_it_again(
        self, organizer_client, full_slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            entry = join(full_slot)
        notification = Notification.objects.get(waitlist_entry=entry)

        listed = organizer_client.get(changelist_url(Notification), {"q": entry.reference})
        assert listed.status_code == 200
        assert [n.pk for n in listed.context["cl"].result_list] == [notification.pk]
        page = listed.content.decode()
        assert "Wanda B. (waitlist)" in page
        assert reverse("admin:registrations_waitlistentry_change", args=[entry.pk]) in page
        detail = organizer_client.get(
            reverse("admin:registrations_notification_change", args=[notification.pk])
        )
        assert detail.status_code == 200

        with django_capture_on_commit_callbacks(execute=True):
            response = post_action(organizer_client, Notification, "send_again", [notification])
        assert any("Queued 1 e-mail" in m for m in messages_of(response))
        assert len([m for m in mailoutbox if m.to == ["wanda@example.com"]]) == 2

    def test_the_kind_can_be_worded_per_tournament_in_the_admin(self, organizer_client, full_slot):
        text = NotificationText.objects.create(
            tournament=full_slot.tournament, kind=Kind.WAITLIST_JOINED, intro="Queue for {room}"
        )
        response = organizer_client.get(
            reverse("admin:registrations_notificationtext_change", args=[text.pk])
        )
        assert response.status_code == 200
        assert "Queue for Hall A" in response.content.decode()
        assert WaitlistEntry.objects.count() == 0
