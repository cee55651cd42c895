"""The no-JavaScript wait is paid per entry: one client that loads many forms, waits once and
submits them all gets at most `OPEN_PER_CLIENT` through; a person is never locked out."""

from unittest import mock

import pytest

from registrations import proof_of_work
from registrations.models import Registration
from tests.conftest import form_data, signup_url
from tests.factories import ParticipantFactory, SlotFactory

pytestmark = pytest.mark.django_db

OPEN = proof_of_work.OPEN_PER_CLIENT


@pytest.fixture
def pow_slot(db, settings):
    settings.LINEUP_POW_BITS = 8
    settings.LINEUP_POW_NOJS_SECONDS = 30
    settings.LINEUP_RATE_SIGNUP = "10000/m"
    return SlotFactory(capacity=50, time_block__tournament__requires_proof_of_work=True)


def waited(seconds):
    """The clock as it reads `seconds` later: the no-JavaScript wait has passed."""
    real = proof_of_work.time.time
    return mock.patch.object(proof_of_work.time, "time", lambda: real() + seconds)


def test_a_batch_of_forms_waited_out_once_lets_only_the_latest_few_through(client, pow_slot):
    forms = []
    for _ in range(10):
        url = signup_url(pow_slot.tournament, participant=ParticipantFactory().pk)
        forms.append((url, form_data(client, url, slot=pow_slot.pk, contact_phone="5550101")))
    with waited(31):  # newest first: the best order for the batch
        answers = [client.post(url, data) for url, data in reversed(forms)]
    assert [a.status_code for a in answers] == [302] * OPEN + [400] * (10 - OPEN)
    assert Registration.objects.count() == OPEN
    assert "only the latest ones count" in answers[-1].content.decode()


def test_a_refused_old_form_gets_a_fresh_challenge_that_goes_through_after_the_wait(
    client, pow_slot
):
    url = signup_url(pow_slot.tournament, participant=ParticipantFactory().pk)
    old = form_data(client, url, slot=pow_slot.pk, contact_phone="5550101")
    for _ in range(OPEN):  # other tabs, or other people on the same network
        form_data(client, signup_url(pow_slot.tournament, participant=ParticipantFactory().pk))
    with waited(31):
        refused = client.post(url, old)
    assert refused.status_code == 400
    fresh = refused.context["pow_challenge"]
    assert fresh and fresh != old["pow_challenge"]
    with waited(62):
        assert client.post(url, dict(old, pow_challenge=fresh)).status_code == 302


def test_two_tabs_for_two_children_both_go_through(client, pow_slot):
    tabs = []
    for _ in range(2):
        url = signup_url(pow_slot.tournament, participant=ParticipantFactory().pk)
        tabs.append((url, form_data(client, url, slot=pow_slot.pk, contact_phone="5550101")))
    with waited(31):
        assert [client.post(url, data).status_code for url, data in tabs] == [302, 302]


def test_other_addresses_do_not_push_out_a_persons_form(pow_slot):
    url = signup_url(pow_slot.tournament, participant=ParticipantFactory().pk)
    mine = Client_at("10.0.0.1")
    data = form_data(mine, url, slot=pow_slot.pk, contact_phone="5550101")
    other = Client_at("10.0.0.2")
    for _ in range(OPEN + 2):
        form_data(other, signup_url(pow_slot.tournament, participant=ParticipantFactory().pk))
    with waited(31):
        assert mine.post(url, data).status_code == 302


def test_a_solved_puzzle_is_not_bounded(client, pow_slot):
    forms = []
    for _ in range(OPEN + 2):
        url = signup_url(pow_slot.tournament, participant=ParticipantFactory().pk)
        data = form_data(client, url, slot=pow_slot.pk, contact_phone="5550101")
        forms.append((url, dict(data, pow_nonce=proof_of_work.solve(data["pow_challenge"]))))
    assert all(client.post(url, data).status_code == 302 for url, data in forms)


def Client_at(address):
    from django.test import Client

    return Client(REMOTE_ADDR=address)
