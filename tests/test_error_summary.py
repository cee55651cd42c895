"""Every public form that refuses input says so at the top of the page: an error summary that
links to each field, and a page title starting "Error:" (for screen readers and without
JavaScript, where nothing moves the focus)."""

import re

import pytest
from django.urls import reverse

from registrations import services
from tests.conftest import form_data, signup_url

pytestmark = pytest.mark.django_db


def summary_of(html):
    found = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert found, "no error summary"
    return found.group(0)


def title_of(html):
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


def test_a_refused_sign_up_lists_each_error_at_the_top_linking_to_its_field(
    client, slot, participant
):
    url = signup_url(slot.tournament, participant=participant.pk)
    response = client.post(url, form_data(client, url, contact_email="not-an-address"))
    html = response.content.decode()
    assert response.status_code == 400
    summary = summary_of(html)
    assert 'href="#id_slot"' in summary and "Choose a time from the list." in summary
    assert 'href="#id_contact_email"' in summary and "Enter a valid email address." in summary
    assert html.index("error-summary") < html.index("<h1>")  # above everything else
    assert 'id="id_slot"' in html and 'id="id_contact_email"' in html  # the links land
    assert title_of(html).startswith("Error: Sign up")


def test_a_form_error_without_a_field_is_in_the_summary_too(client, slot, participant):
    url = signup_url(slot.tournament, participant=participant.pk)
    data = form_data(client, url, slot=slot.pk, contact_phone="5550101")
    data["idempotency_key"] = "short"
    html = client.post(url, data).content.decode()
    assert "This form is incomplete. Please reload the page." in summary_of(html)


def test_a_refusal_by_the_engine_is_in_the_summary(client, slot, participant):
    services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=participant, actor="test"
    )
    url = signup_url(slot.tournament, participant=participant.pk)
    html = client.post(url, form_data(client, url, slot=slot.pk, contact_phone="5550101"))
    assert "already signed up" in summary_of(html.content.decode())


def test_the_form_without_errors_has_no_summary_and_a_plain_title(client, slot, participant):
    html = client.get(signup_url(slot.tournament, participant=participant.pk)).content.decode()
    assert "error-summary" not in html
    assert not title_of(html).startswith("Error")


def test_a_cancel_form_with_a_too_long_reason_says_so_at_the_top(client, slot, participant):
    registration = services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=participant, actor="test"
    )
    url = reverse("registrations:cancel", args=[registration.reference])
    html = client.post(url, {"reason": "x" * 501}).content.decode()
    assert 'href="#id_reason"' in summary_of(html)
    assert title_of(html).startswith("Error: ")


def test_a_too_short_search_says_so_at_the_top(client, tournament):
    url = reverse("participants:search", args=[tournament.slug])
    html = client.get(url, {"q": "a"}).content.decode()
    assert 'href="#q"' in summary_of(html)
    assert title_of(html).startswith("Error: ")


def test_a_bad_filter_on_the_tournament_list_says_so_at_the_top(client, tournament):
    html = client.get(reverse("tournaments:list"), {"day": "someday"}).content.decode()
    assert 'href="#id_day"' in summary_of(html)
    assert title_of(html).startswith("Error: ")
