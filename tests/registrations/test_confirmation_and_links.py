"""A confirmation worth keeping: what the private page and the e-mails say, changing the time
from the private page, and "I lost my link" (issue 11)."""

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
from participants.services import participant_create
from registrations import services
from registrations.errors import StatusConflict
from registrations.models import (
    SHORT_REFERENCE_ALPHABET,
    Notification,
    Registration,
)
from tests.factories import LocationFactory, ParticipantFactory, SlotFactory, TournamentFactory
from tournaments.models import Slot

pytestmark = pytest.mark.django_db


@pytest.fixture
def festival(db):
    tournament = TournamentFactory(
        name="Spring Piano Festival",
        organizer_name="Olga Organizer",
        organizer_email="olga@example.org",
        organizer_phone="+44 20 7946 0000",
        arrival_notes="Arrive 20 minutes early and report to the desk.",
        what_to_bring="Your own sheet music.",
    )
    room = LocationFactory(name="Blue Room", address="12 Mill Lane, Lincoln LN1 3AB")
    slot = SlotFactory(time_block__tournament=tournament, time_block__location=room, capacity=2)
    later = SlotFactory(
        time_block=slot.time_block,
        number=2,
        starts_at=slot.starts_at + timedelta(minutes=30),
        ends_at=slot.ends_at + timedelta(minutes=30),
        capacity=2,
    )
    return tournament, slot, later


def sign_up(slot, email="parent@example.com", participant=None, **kwargs):
    return services.registration_create(
        tournament=slot.tournament,
        slot_id=slot.pk,
        participant=participant or ParticipantFactory(),
        contact_email=email,
        actor="public",
        **kwargs,
    )


def sent(mailoutbox, kind_word):
    return [m for m in mailoutbox if kind_word in m.subject]


# --- the confirmation --------------------------------------------------------------------------


def test_the_private_page_shows_the_venue_the_organizer_and_the_door_reference(client, festival):
    _tournament, slot, _later = festival
    registration = sign_up(slot)
    html = client.get(reverse("registrations:detail", args=[registration.reference])).content
    html = html.decode()
    for text in (
        "12 Mill Lane, Lincoln LN1 3AB",
        "Arrive 20 minutes early",
        "Your own sheet music.",
        "Olga Organizer",
        "mailto:olga@example.org",
        registration.short_reference_display,
        registration.reference,  # the long link stays the key
    ):
        assert text in html


def test_the_confirmation_email_says_the_same(
    festival, mailoutbox, django_capture_on_commit_callbacks
):
    _tournament, slot, _later = festival
    with django_capture_on_commit_callbacks(execute=True):
        registration = sign_up(slot)
    (mail,) = mailoutbox
    html = mail.alternatives[0][0]
    for body in (mail.body, html):
        assert "12 Mill Lane, Lincoln LN1 3AB" in body
        assert "Arrive 20 minutes early" in body
        assert "Your own sheet music." in body
        assert "olga@example.org" in body
        assert registration.short_reference_display in body


def test_short_references_are_short_unambiguous_and_unique_per_tournament(festival):
    tournament, slot, _later = festival
    codes = set()
    for i in range(30):
        target = SlotFactory(
            time_block__tournament=tournament,
            starts_at=slot.starts_at + timedelta(hours=1, minutes=10 * i),
            ends_at=slot.starts_at + timedelta(hours=1, minutes=10 * i + 10),
        )
        codes.add(sign_up(target).short_reference)
    assert len(codes) == 30
    for code in codes:
        assert len(code) == 6
        assert set(code) <= set(SHORT_REFERENCE_ALPHABET)
    assert not set("O0I1L5S2Z8BUV") & set(SHORT_REFERENCE_ALPHABET)


def test_a_short_reference_clash_draws_again_instead_of_failing(festival, monkeypatch):
    _tournament, slot, later = festival
    first = sign_up(slot)
    draws = iter([first.short_reference, "ACDEFG"])
    monkeypatch.setattr("registrations.rows.new_short_reference", lambda: next(draws))
    second = sign_up(later)
    assert second.short_reference == "ACDEFG"
    assert Registration.objects.count() == 2


def test_staff_find_an_entry_by_the_reference_read_aloud(organizer_client, festival):
    _tournament, slot, _later = festival
    registration = sign_up(slot)
    sign_up(slot)  # someone else
    spoken = registration.short_reference_display.lower().replace("-", " ")
    page = organizer_client.get(
        reverse("admin:registrations_registration_changelist"), {"q": spoken}
    )
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [registration]
    assert registration.short_reference_display in page.content.decode()


# --- changing the time -------------------------------------------------------------------------


def test_the_entrant_changes_their_time_and_gets_old_and_new_by_email(
    client, festival, mailoutbox, django_capture_on_commit_callbacks
):
    _tournament, slot, later = festival
    registration = sign_up(slot)
    mailoutbox.clear()
    url = reverse("registrations:change", args=[registration.reference])
    page = client.get(url).content.decode()
    assert f'value="{later.pk}" required>' in page
    assert f'value="{slot.pk}"' not in page  # not its own time again
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"slot": later.pk})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.slot_id == later.pk
    assert Slot.objects.get(pk=slot.pk).reserved_count == 0
    assert Slot.objects.get(pk=later.pk).reserved_count == 1
    event = AuditEvent.objects.get(action="registration.move")
    assert event.actor == "public"
    assert event.payload["from_slot"] == str(slot.pk)
    (mail,) = sent(mailoutbox, "Your time has changed")
    was = re.search(r"Was: +(.*)", mail.body).group(1)
    now = re.search(r"Now: +(.*)", mail.body).group(1)
    assert slot.starts_at.astimezone(timezone.get_current_timezone()).strftime("%H:%M") in was
    assert later.starts_at.astimezone(timezone.get_current_timezone()).strftime("%H:%M") in now
    followed = client.get(response["Location"]).content.decode()
    assert "Your time is now" in followed


def test_a_full_time_is_shown_but_not_offered_and_refused_if_forced(client, festival):
    _tournament, slot, later = festival
    registration = sign_up(slot)
    Slot.objects.filter(pk=later.pk).update(reserved_count=2)
    url = reverse("registrations:change", args=[registration.reference])
    assert f'value="{later.pk}" required disabled' in client.get(url).content.decode()
    response = client.post(url, {"slot": later.pk})
    assert response.status_code == 409
    assert "just filled" in response.content.decode()
    registration.refresh_from_db()
    assert registration.slot_id == slot.pk


def test_no_change_once_sign_up_has_closed(client, festival):
    tournament, slot, later = festival
    registration = sign_up(slot)
    tournament.registration_closes_at = timezone.now() - timedelta(minutes=1)
    tournament.registration_opens_at = timezone.now() - timedelta(days=2)
    tournament.save()
    detail = client.get(reverse("registrations:detail", args=[registration.reference]))
    assert "Change the time" not in detail.content.decode()
    url = reverse("registrations:change", args=[registration.reference])
    response = client.post(url, {"slot": later.pk}, follow=True)
    assert "times can no longer be changed online" in response.content.decode()
    registration.refresh_from_db()
    assert registration.slot_id == slot.pk
    # The engine refuses it too, not only the page.
    with pytest.raises(StatusConflict, match="closed"):
        services.registration_move(
            registration=registration, to_slot_id=later.pk, actor="public", by_entrant=True
        )


def test_a_bad_time_choice_is_a_clear_400(client, festival):
    _tournament, slot, _later = festival
    registration = sign_up(slot)
    url = reverse("registrations:change", args=[registration.reference])
    response = client.post(url, {"slot": "not-a-slot\x00"})
    assert response.status_code == 400
    assert "Choose a new time from the list." in response.content.decode()


# --- I lost my link ----------------------------------------------------------------------------


def lost_link(client, contact):
    return client.post(reverse("registrations:lost_link"), {"contact": contact}, follow=True)


def test_lost_links_go_to_the_address_on_file(
    client, festival, mailoutbox, django_capture_on_commit_callbacks
):
    _tournament, slot, later = festival
    mine = [sign_up(slot, "Parent@Example.com"), sign_up(later, "parent@example.com")]
    sign_up(slot, "someone.else@example.com")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = lost_link(client, "parent@example.com")
    assert response.status_code == 200
    (mail,) = mailoutbox
    assert mail.to == ["parent@example.com"] or mail.to == ["Parent@Example.com"]
    for registration in mine:
        assert f"/r/{registration.reference}/" in mail.body
        assert registration.short_reference_display in mail.body
    assert Notification.objects.filter(kind=Notification.Kind.LINKS).count() == 1
    assert AuditEvent.objects.filter(action="registration.links_sent").count() == 1


def test_a_phone_number_finds_the_registrations_made_with_it(
    client, festival, mailoutbox, django_capture_on_commit_callbacks
):
    _tournament, slot, _later = festival
    registration = sign_up(slot, contact_phone="+44 20 7946 0958")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        lost_link(client, "+44 (20) 7946-0958")
    (mail,) = mailoutbox
    assert mail.to == ["parent@example.com"]
    assert f"/r/{registration.reference}/" in mail.body


@pytest.mark.parametrize(
    ("on_file", "typed", "region"),
    [
        ("+44 20 7946 0958", "020 7946 0958", ""),  # the trunk zero for the country code
        ("020 7946 0958", "+44 (20) 7946-0958", ""),
        ("+31 6 1234 5678", "0031 6 12345678", "NL"),  # the international prefix of the region
        ("+39 06 1234 5678", "06 1234 5678", "IT"),  # Rome keeps its 0 after +39
    ],
)
def test_a_phone_number_is_found_with_or_without_its_country_code(
    client,
    festival,
    mailoutbox,
    django_capture_on_commit_callbacks,
    settings,
    on_file,
    typed,
    region,
):
    settings.LINEUP_PHONE_REGION = region
    _tournament, slot, _later = festival
    registration = sign_up(slot, contact_phone=on_file)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        lost_link(client, typed)
    (mail,) = mailoutbox
    assert f"/r/{registration.reference}/" in mail.body


def test_a_number_sharing_only_its_last_digits_is_not_a_match(
    client, festival, mailoutbox, django_capture_on_commit_callbacks
):
    _tournament, slot, _later = festival
    sign_up(slot, contact_phone="+44 20 7946 0958")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        lost_link(client, "+33 1 27 94 60 958")  # same last seven digits, another number
    assert mailoutbox == []


def test_one_number_written_two_ways_is_one_contact_for_the_rate_limit(client, festival, settings):
    settings.LINEUP_RATE_LOST_LINK_CONTACT = "2/h"
    assert lost_link(client, "+44 20 7946 0958").status_code == 200
    assert lost_link(client, "020 7946 0958").status_code == 200
    assert lost_link(client, "0207-946-0958").status_code == 429


def test_the_answer_is_the_same_whether_or_not_anything_matched(client, festival, mailoutbox):
    _tournament, slot, _later = festival
    sign_up(slot)
    known = lost_link(client, "parent@example.com")
    unknown = lost_link(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    assert known.content == unknown.content


def test_lost_link_is_rate_limited_per_contact_and_per_client(client, festival, settings):
    settings.LINEUP_RATE_LOST_LINK_CONTACT = "2/h"
    settings.LINEUP_RATE_LOST_LINK = "4/h"
    for _ in range(2):
        assert lost_link(client, "parent@example.com").status_code == 200
    assert lost_link(client, "PARENT@example.com").status_code == 429  # the same contact
    assert lost_link(client, "other@example.com").status_code == 200
    assert lost_link(client, "third@example.com").status_code == 429


def test_lost_link_refuses_what_is_neither_an_address_nor_a_phone(client):
    for bad in ("", "hello", "a@b", "12", "x" * 300, "a\x00b@example.com"):
        response = client.post(reverse("registrations:lost_link"), {"contact": bad})
        assert response.status_code == 400, bad
        assert "There is a problem" in response.content.decode()


# --- e-mail wording and links ------------------------------------------------------------------


def test_the_cancellation_email_fits_a_cancelled_entry(
    festival, mailoutbox, django_capture_on_commit_callbacks
):
    _tournament, slot, _later = festival
    registration = sign_up(slot)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_cancel(registration=registration, actor="public", by_entrant=True)
    (mail,) = mailoutbox
    assert "cancelled" in mail.subject
    assert "can cancel" not in mail.body
    assert "change or cancel" not in mail.body
    assert "no longer holds a place" in mail.body
    assert "Your reference at the door" not in mail.body
    assert "olga@example.org" in mail.body


def test_email_links_use_the_configured_base_url(
    festival, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.LINEUP_BASE_URL = "http://127.0.0.1:8765"
    _tournament, slot, _later = festival
    with django_capture_on_commit_callbacks(execute=True):
        registration = sign_up(slot)
    assert f"http://127.0.0.1:8765/r/{registration.reference}/" in mailoutbox[0].body


def test_make_run_gives_its_own_address_to_the_emails():
    import subprocess

    from django.conf import settings

    out = subprocess.run(
        ["make", "-n", "run", "PORT=8123", "VENV=/nonexistent"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    ).stdout
    assert "LINEUP_BASE_URL=http://127.0.0.1:8123" in out
    assert "seed_demo --base-url http://127.0.0.1:8123" in out


def test_existing_entries_got_a_short_reference_from_the_migration(festival):
    # Every row has one: the migration gave the old ones theirs, unique per tournament.
    _tournament, slot, later = festival
    sign_up(slot)
    sign_up(later)
    assert not Registration.objects.filter(short_reference="").exists()
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_a_listed_participant_keeps_the_private_page_query_count_small(
    client, festival, django_assert_max_num_queries
):
    _tournament, slot, _later = festival
    registration = sign_up(
        slot, participant=participant_create(actor="t", first_name="Ann", last_name="Lee")
    )
    with django_assert_max_num_queries(4):
        client.get(reverse("registrations:detail", args=[registration.reference]))


# --- what organizers set and staff read --------------------------------------------------------


def test_organizers_set_the_contact_and_confirmation_texts_in_the_admin(organizer_client):
    from tests.admin_client import change_url
    from tests.tournaments.test_admin import tournament_form

    tournament = TournamentFactory()
    data = tournament_form(
        tournament,
        organizer_name="Olga Organizer",
        organizer_email="olga@example.org",
        organizer_phone="+44 20 7946 0000",
        arrival_notes="Twenty minutes early.",
        what_to_bring="Sheet music.",
    )
    response = organizer_client.post(change_url(tournament), data)
    assert response.status_code == 302, response.context["errors"]
    tournament.refresh_from_db()
    assert tournament.organizer_email == "olga@example.org"
    assert tournament.what_to_bring == "Sheet music."
    event = AuditEvent.objects.get(action="tournament.update", target_id=tournament.pk)
    assert "organizer_email" in event.payload["changed"]


def test_a_room_gets_its_address_through_the_admin(organizer_client):
    from tests.admin_client import add_url
    from tournaments.models import Location

    response = organizer_client.post(
        add_url(Location),
        {"name": "Blue Room", "building": "Hall", "address": "12 Mill Lane", "notes": ""},
    )
    assert response.status_code == 302
    assert Location.objects.get(name="Blue Room").address == "12 Mill Lane"


def test_the_run_sheet_shows_the_reference_read_aloud_at_the_door(organizer_client, festival):
    tournament, slot, _later = festival
    registration = sign_up(slot)
    page = organizer_client.get(
        reverse("admin:tournaments_tournament_run_sheet", args=[tournament.pk])
    ).content.decode()
    assert registration.short_reference_display in page


def test_a_phone_region_that_does_not_exist_stops_the_start(tmp_path):
    env = {**os.environ, "LINEUP_PHONE_REGION": "XX", "DJANGO_SETTINGS_MODULE": "config.settings"}
    started = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert started.returncode != 0
    assert "LINEUP_PHONE_REGION “XX” is not a region code" in started.stderr
