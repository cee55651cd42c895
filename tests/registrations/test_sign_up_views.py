"""Public sign-up, through Django's test client: the form, signing up, typed names and teams,
proof of work."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from common.locking import Busy
from participants.services import team_create
from registrations import proof_of_work, services
from registrations.models import Registration
from tests.conftest import form_data, signup_url
from tests.factories import ParticipantFactory, SlotFactory, TimeBlockFactory, TournamentFactory
from tournaments.models import Slot

pytestmark = pytest.mark.django_db


def later_slot(slot, minutes=10, **kwargs):
    return SlotFactory(
        time_block=slot.time_block, starts_at=slot.starts_at + timedelta(minutes=minutes), **kwargs
    )


# --- the form ---------------------------------------------------------------------------------


def test_the_form_shows_who_is_signing_up_with_public_details_only(client, slot):
    zoe = ParticipantFactory(first_name="Zoë", last_name="Núñez", birth_year=2012, grade="7")
    html = client.get(signup_url(slot.tournament, participant=zoe.pk)).content.decode()
    assert "Zoë N." in html and "Núñez" not in html and "2012" not in html
    assert "Grade 7" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="idempotency_key"' in html


def test_the_form_offers_only_bookable_slots(client, slot, participant):
    full = later_slot(slot, capacity=1)
    services.registration_create(
        tournament=slot.tournament, slot_id=full.pk, participant=ParticipantFactory(), actor="test"
    )
    blocked = later_slot(slot, 20, status=Slot.Status.BLOCKED)
    past = later_slot(slot, -60 * 24 * 3)
    html = client.get(signup_url(slot.tournament, participant=participant.pk)).content.decode()
    assert f'value="{slot.pk}" required>' in html
    # A full time is shown, not offered: it cannot be picked and says why.
    assert f'value="{full.pk}" required disabled' in html
    assert "Cannot be taken: Full" in html
    for unavailable in (blocked, past):
        assert f'value="{unavailable.pk}"' not in html


def test_a_slot_picked_on_the_tournament_page_is_shown_alone_and_checked(client, slot, participant):
    other = later_slot(slot)
    html = client.get(
        signup_url(slot.tournament, participant=participant.pk, slot=slot.pk)
    ).content.decode()
    assert f'value="{slot.pk}" required checked' in html
    assert f'value="{other.pk}"' not in html
    assert "Choose another time" in html


def test_a_picked_slot_is_read_alone_however_many_times_the_tournament_has(
    client, slot, participant
):
    for n in range(1, 30):
        later_slot(slot, 10 * n)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(
            signup_url(slot.tournament, participant=participant.pk, slot=slot.pk)
        ).content.decode()
    assert f'value="{slot.pk}" required checked' in html
    reads_of_slots = [q["sql"] for q in queries if 'FROM "tournaments_slot"' in q["sql"]]
    assert reads_of_slots
    assert all(slot.pk.hex in sql for sql in reads_of_slots)


def test_a_picked_slot_that_filled_before_the_form_loaded_lists_the_others(
    client, slot, participant
):
    other = later_slot(slot)
    Slot.objects.filter(pk=slot.pk).update(status=Slot.Status.BLOCKED)
    html = client.get(
        signup_url(slot.tournament, participant=participant.pk, slot=slot.pk)
    ).content.decode()
    assert "no longer available" in html
    assert f'value="{other.pk}"' in html and f'value="{slot.pk}"' not in html


def test_unknown_or_wrong_kind_of_entrant_is_not_found(client, slot, participant):
    assert client.get(signup_url(slot.tournament, participant="nonsense")).status_code == 404
    team = team_create(actor="test", name="Wolves")
    assert client.get(signup_url(slot.tournament, team=team.pk)).status_code == 404
    team_event = TournamentFactory(team_event=True)
    assert client.get(signup_url(team_event, participant=participant.pk)).status_code == 404


def test_the_form_runs_the_same_queries_for_few_or_many_slots(client, participant):
    few, many = TournamentFactory(), TournamentFactory()
    first = SlotFactory(time_block__tournament=few)
    later_slot(first)
    block = TimeBlockFactory(tournament=many, ends_at=first.starts_at + timedelta(hours=20))
    for i in range(60):
        SlotFactory(time_block=block, starts_at=block.starts_at + timedelta(minutes=10 * i))
    counts = []
    for tournament in (few, many):
        with CaptureQueriesContext(connection) as queries:
            client.get(signup_url(tournament, participant=participant.pk))
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- signing up -------------------------------------------------------------------------------


def test_signing_up_books_the_slot_and_shows_the_confirmation(
    client, slot, participant, mailoutbox, django_capture_on_commit_callbacks
):
    url = signup_url(slot.tournament, participant=participant.pk, slot=slot.pk)
    data = form_data(client, url, slot=slot.pk, contact_email="parent@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)

    registration = Registration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("registrations:detail", args=[registration.reference])
    assert registration.participant == participant
    assert registration.slot == slot
    assert registration.contact_email == "parent@example.com"
    assert registration.status == Registration.Status.CONFIRMED
    (mail,) = mailoutbox
    assert f"/r/{registration.reference}/" in mail.body

    page = client.get(response["Location"]).content.decode()
    assert "You are signed up" in page
    assert slot.location.name in page
    assert timezone.localtime(slot.starts_at).strftime("%H:%M") in page
    assert registration.reference in page
    assert f"http://testserver/r/{registration.reference}/" in page


def test_from_search_result_to_confirmation_takes_three_clicks(client, slot, participant):
    """Click the search result, pick the time, submit: the third click shows the confirmation."""
    search = client.get(
        reverse("participants:search", args=[slot.tournament.slug]),
        {"q": participant.last_name},
    ).content.decode()
    link = re.search(r'href="([^"]*participant=[^"]+)"', search).group(1).replace("&amp;", "&")
    form_page = client.get(link)  # click 1
    html = form_page.content.decode()
    assert f'value="{slot.pk}"' in html  # click 2 picks this radio button
    data = {
        "idempotency_key": form_page.context["form"]["idempotency_key"].value(),
        "slot": str(slot.pk),
        "contact_phone": "+1 555 010 9999",
    }
    confirmation = client.post(link, data, follow=True)  # click 3
    assert "You are signed up" in confirmation.content.decode()
    assert Registration.objects.filter(participant=participant, slot=slot).count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"contact_email": "not-an-address"}, "Enter a valid email address."),
        ({"contact_phone": "call me"}, "Enter a phone number of 7 to 15 digits"),
        ({"contact_phone": "12 34"}, "Enter a phone number of 7 to 15 digits"),
        ({}, "Give an e-mail address or a phone number"),
        ({"contact_email": "a@example.com", "slot": ""}, "Choose a time from the list."),
        ({"contact_email": "a@example.com", "slot": "nonsense"}, "Choose a time from the list."),
    ],
)
def test_bad_input_re_renders_the_form_with_a_message(client, slot, participant, fields, message):
    url = signup_url(slot.tournament, participant=participant.pk)
    data = form_data(client, url, **{"slot": slot.pk, **fields})
    response = client.post(url, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode() or "slot-errors" in (
        response.content.decode()
    )
    assert not Registration.objects.exists()


def test_a_slot_of_another_tournament_is_refused(client, slot, participant):
    foreign = SlotFactory()
    url = signup_url(slot.tournament, participant=participant.pk)
    response = client.post(url, form_data(client, url, slot=foreign.pk, contact_phone="5550101"))
    assert response.status_code == 400
    assert not Registration.objects.exists()


def test_an_unknown_or_cancelled_slot_is_refused_like_a_foreign_one(client, slot, participant):
    cancelled = later_slot(slot, status=Slot.Status.CANCELLED)
    url = signup_url(slot.tournament, participant=participant.pk)
    for chosen in ("0b0e1d7c-6b54-4a0b-9d4c-7f2d2f4f3a11", cancelled.pk):
        response = client.post(url, form_data(client, url, slot=chosen, contact_phone="5550101"))
        assert response.status_code == 400
        assert "Choose a time from the list." in response.content.decode()
    assert not Registration.objects.exists()


def test_a_submit_reads_the_slot_once_under_lock(client, slot, participant):
    """The form only parses the slot's id; the engine reads and locks the slot."""
    url = signup_url(slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=slot.pk, contact_phone="5550101")
    with CaptureQueriesContext(connection) as queries:
        assert client.post(url, data).status_code == 302
    reads_of_the_slot = [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT") and ('FROM "tournaments_slot"' in q["sql"])
    ]
    assert len(reads_of_the_slot) == 1
    assert "FOR UPDATE" in reads_of_the_slot[0]


def test_a_form_without_its_token_is_refused(client, slot, participant):
    url = signup_url(slot.tournament, participant=participant.pk)
    response = client.post(url, {"slot": slot.pk, "contact_phone": "5550101"})
    assert response.status_code == 400
    assert not Registration.objects.exists()


def test_a_slot_that_filled_meanwhile_offers_the_nearest_open_ones(client, slot, participant):
    slot.capacity = 1
    slot.save()
    near = later_slot(slot, 10)
    far = later_slot(slot, 600)
    url = signup_url(slot.tournament, participant=participant.pk, slot=slot.pk)
    data = form_data(client, url, slot=slot.pk, contact_email="parent@example.com")
    # Someone else takes the last place between page load and submit.
    services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="test"
    )

    response = client.post(url, data)

    assert response.status_code == 409
    html = response.content.decode()
    assert "This slot just filled" in html
    assert html.index(str(near.pk)) < html.index(str(far.pk))
    assert 'value="parent@example.com"' in html  # the details are kept for the retry
    assert Registration.objects.filter(participant=participant).count() == 0

    retry = dict(data, slot=str(near.pk))
    assert client.post(url, retry).status_code == 302
    assert Registration.objects.get(participant=participant).slot == near


def test_a_blocked_or_started_slot_gets_the_same_page(client, slot, participant):
    url = signup_url(slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=slot.pk, contact_phone="5550101")
    Slot.objects.filter(pk=slot.pk).update(status=Slot.Status.BLOCKED)
    response = client.post(url, data)
    assert response.status_code == 409
    assert "not available" in response.content.decode()
    assert "No other times are open" in response.content.decode()


def test_double_clicks_and_resubmits_create_one_registration(client, slot, participant):
    url = signup_url(slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=slot.pk, contact_phone="5550101")
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Registration.objects.count() == 1
    slot.refresh_from_db()
    assert slot.reserved_count == 1


def test_an_already_registered_participant_gets_a_clear_message(client, slot, participant):
    services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=participant, actor="test"
    )
    url = signup_url(slot.tournament, participant=participant.pk)
    response = client.post(url, form_data(client, url, slot=slot.pk, contact_phone="5550101"))
    assert response.status_code == 400
    assert "already signed up" in response.content.decode()


def test_forms_need_their_csrf_token(slot, participant):
    client = Client(enforce_csrf_checks=True)
    url = signup_url(slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=slot.pk, contact_phone="5550101")
    response = client.post(url, data)  # no csrfmiddlewaretoken
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert not Registration.objects.exists()


def test_busy_becomes_a_friendly_try_again_page(client, slot, participant):
    url = signup_url(slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=slot.pk, contact_phone="5550101")
    with mock.patch.object(services, "registration_create", side_effect=Busy()):
        response = client.post(url, data)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "please try again" in response.content.decode()


def test_sign_ups_are_rate_limited_per_client(client, slot):
    statuses = []
    with override_settings(LINEUP_RATE_SIGNUP="2/h"):
        for _ in range(3):
            url = signup_url(slot.tournament, participant=ParticipantFactory().pk)
            data = form_data(client, url, slot=slot.pk, contact_phone="5550101")
            statuses.append(client.post(url, data).status_code)
    assert statuses == [302, 302, 429]
    assert Registration.objects.count() == 2


def test_a_closed_tournament_says_so(client, participant):
    slot = SlotFactory(
        time_block__tournament__registration_opens_at=timezone.now() + timedelta(hours=1),
        time_block__tournament__registration_closes_at=timezone.now() + timedelta(hours=5),
    )
    response = client.get(signup_url(slot.tournament, participant=participant.pk))
    assert "Sign-up for" in response.content.decode() and "opens" in response.content.decode()
    response = client.post(signup_url(slot.tournament, participant=participant.pk), {})
    assert response.status_code == 409
    assert not Registration.objects.exists()


# --- typed names and teams --------------------------------------------------------------------


def test_a_person_not_on_the_list_can_sign_up_by_typed_name(client, slot):
    url = signup_url(slot.tournament)
    data = form_data(
        client, url, slot=slot.pk, entrant_name="  Maria   Lopez ", contact_phone="5550101"
    )
    assert client.post(url, data).status_code == 302
    registration = Registration.objects.get()
    assert registration.entrant_name == "Maria Lopez"
    assert registration.participant is None


def test_a_typed_name_is_required(client, slot):
    url = signup_url(slot.tournament)
    response = client.post(url, form_data(client, url, slot=slot.pk, contact_phone="5550101"))
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_without_typed_names_the_form_sends_people_to_the_search(client):
    tournament = TournamentFactory(allows_typed_names=False)
    response = client.get(signup_url(tournament))
    assert response.status_code == 302
    assert response["Location"] == reverse("participants:search", args=[tournament.slug])


def test_a_coach_books_chosen_team_members_and_typed_ones_into_one_slot(client):
    slot = SlotFactory(capacity=5, time_block__tournament__entry_kind="team")
    team = team_create(actor="test", name="Robo Wolves", school="Hill School")
    # Fixed names: a random surname could also be a word of the page ("Hill", "Wolves").
    ana, _ben, cy = (
        ParticipantFactory(first_name=first, last_name=last, team=team)
        for first, last in [("Ana", "Zwartkop"), ("Ben", "Oyelaran"), ("Cy", "Mbeki")]
    )
    url = signup_url(slot.tournament, team=team.pk)
    page = client.get(url).content.decode()
    assert ana.short_name in page and ana.last_name not in page.replace(ana.short_name, "")
    data = form_data(
        client,
        url,
        slot=slot.pk,
        members=[str(ana.pk), str(cy.pk)],
        extra_members="Dana Newcomer\n\n",
        contact_email="coach@example.com",
    )
    assert client.post(url, data).status_code == 302
    registration = Registration.objects.get()
    assert registration.team == team
    assert registration.seats == 3
    assert sorted(m.name for m in registration.members.all()) == sorted(
        [ana.full_name, cy.full_name, "Dana Newcomer"]
    )
    slot.refresh_from_db()
    assert slot.reserved_count == 3
    assert (
        "Dana Newcomer"
        in client.get(
            reverse("registrations:detail", args=[registration.reference])
        ).content.decode()
    )


def test_a_team_not_on_the_list_can_be_typed_with_its_members(client):
    slot = SlotFactory(capacity=4, time_block__tournament__entry_kind="team")
    url = signup_url(slot.tournament)
    data = form_data(
        client,
        url,
        slot=slot.pk,
        entrant_name="Night Owls",
        extra_members="Ann One\nBob Two",
        contact_phone="5550101",
    )
    assert client.post(url, data).status_code == 302
    registration = Registration.objects.get()
    assert (registration.entrant_name, registration.seats) == ("Night Owls", 2)


def test_a_team_entry_needs_members(client):
    slot = SlotFactory(capacity=4, time_block__tournament__entry_kind="team")
    url = signup_url(slot.tournament)
    data = form_data(client, url, slot=slot.pk, entrant_name="Night Owls", contact_phone="5550101")
    response = client.post(url, data)
    assert response.status_code == 400
    assert "needs at least one member" in response.content.decode()


def test_a_team_too_big_for_the_slot_gets_the_nearest_slots_with_room(client):
    slot = SlotFactory(capacity=2, time_block__tournament__entry_kind="team")
    roomy = later_slot(slot, capacity=4)
    later_slot(slot, 20, capacity=2)
    url = signup_url(slot.tournament)
    data = form_data(
        client,
        url,
        slot=slot.pk,
        entrant_name="Trio",
        extra_members="A One\nB Two\nC Three",
        contact_phone="5550101",
    )
    response = client.post(url, data)
    assert response.status_code == 409
    assert [s.pk for s in response.context["nearest"]] == [roomy.pk]


# --- proof of work ----------------------------------------------------------------------------


@pytest.fixture
def pow_slot(db, settings):
    settings.LINEUP_POW_BITS = 8
    settings.LINEUP_POW_NOJS_SECONDS = 30
    return SlotFactory(capacity=5, time_block__tournament__requires_proof_of_work=True)


def test_a_solved_puzzle_lets_the_sign_up_through(client, pow_slot, participant):
    url = signup_url(pow_slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=pow_slot.pk, contact_phone="5550101")
    assert "data-pow-challenge" in client.get(url).content.decode()
    data["pow_nonce"] = proof_of_work.solve(data["pow_challenge"])
    assert client.post(url, data).status_code == 302
    assert Registration.objects.count() == 1


def test_without_a_solution_the_form_asks_to_wait_and_keeps_the_challenge(
    client, pow_slot, participant
):
    url = signup_url(pow_slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=pow_slot.pk, contact_phone="5550101")
    response = client.post(url, data)
    assert response.status_code == 400
    assert "press the button again in" in response.content.decode()
    assert response.context["pow_challenge"] == data["pow_challenge"]
    assert not Registration.objects.exists()


def test_without_javascript_the_wait_replaces_the_puzzle(client, pow_slot, participant, settings):
    settings.LINEUP_POW_NOJS_SECONDS = 0
    url = signup_url(pow_slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=pow_slot.pk, contact_phone="5550101")
    assert client.post(url, data).status_code == 302


def test_a_wrong_solution_or_a_forged_challenge_is_refused(client, pow_slot, participant):
    url = signup_url(pow_slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=pow_slot.pk, contact_phone="5550101")
    nonce = proof_of_work.solve(data["pow_challenge"])
    wrong = next(
        str(n)
        for n in range(1000)
        if not proof_of_work.leading_zero_bits(
            __import__("hashlib").sha256(f"{data['pow_challenge']}:{n}".encode()).digest()
        )
        >= 8
    )
    assert client.post(url, dict(data, pow_nonce=wrong)).status_code == 400
    forged = dict(data, pow_challenge=data["pow_challenge"][:-2] + "xx", pow_nonce=nonce)
    assert "reload the page" in client.post(url, forged).content.decode()
    assert not Registration.objects.exists()


def test_a_challenge_of_another_tournament_is_refused(client, pow_slot, participant):
    other = TournamentFactory(requires_proof_of_work=True)
    url = signup_url(pow_slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=pow_slot.pk, contact_phone="5550101")
    data["pow_challenge"] = proof_of_work.challenge_issue(tournament=other)
    data["pow_nonce"] = proof_of_work.solve(data["pow_challenge"])
    assert client.post(url, data).status_code == 400


def test_one_solved_challenge_signs_up_one_entry(client, pow_slot):
    first = signup_url(pow_slot.tournament, participant=ParticipantFactory().pk)
    data = form_data(client, first, slot=pow_slot.pk, contact_phone="5550101")
    data["pow_nonce"] = proof_of_work.solve(data["pow_challenge"])
    assert client.post(first, data).status_code == 302
    assert client.post(first, data).status_code == 302  # a double click is still fine
    second = signup_url(pow_slot.tournament, participant=ParticipantFactory().pk)
    replay = dict(data, idempotency_key=form_data(client, second)["idempotency_key"])
    response = client.post(second, replay)
    assert response.status_code == 400
    assert "already used" in response.content.decode()
    assert Registration.objects.count() == 1


def test_an_old_challenge_has_expired(pow_slot):
    challenge = proof_of_work.challenge_issue(tournament=pow_slot.tournament)
    with (
        mock.patch("django.core.signing.time.time", return_value=10**10),
        pytest.raises(proof_of_work.ProofOfWorkFailed, match="open too long"),
    ):
        proof_of_work.challenge_verify(
            tournament=pow_slot.tournament,
            challenge=challenge,
            nonce=proof_of_work.solve(challenge),
            owner="x" * 24,
        )
