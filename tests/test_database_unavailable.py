"""A database that cannot be reached for a moment (a restart) gives the 503 "try again" page
with Retry-After, like a lock wait that ran out, not the generic 500."""

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.db.backends.utils import CursorWrapper
from django.urls import reverse

pytestmark = pytest.mark.django_db


def refused(*args, **kwargs):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: refused")


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_lost_connection_on_a_public_page_is_a_503_with_retry_after(client, tournament, error):
    def lost(*args, **kwargs):
        raise error("server closed the connection unexpectedly")

    with mock.patch.object(CursorWrapper, "execute", lost):
        response = client.get(reverse("tournaments:detail", args=[tournament.slug]))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "try again" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_refused_connection_is_a_503_on_the_list_and_the_sign_up(client, tournament):
    connection.close()  # as after a restart: the next request must connect afresh
    try:
        with mock.patch.object(connection, "get_new_connection", refused):
            for url in (
                reverse("tournaments:list"),
                reverse("participants:search", args=[tournament.slug]) + "?q=zoe",
                reverse("registrations:create", args=[tournament.slug]),
            ):
                response = client.get(url)
                assert response.status_code == 503, url
                assert response["Retry-After"] == "5"
    finally:
        connection.close()
    assert client.get(reverse("tournaments:list")).status_code == 200  # back once it is up


def test_other_errors_are_not_hidden_behind_a_503(client, tournament):
    with mock.patch.object(CursorWrapper, "execute", side_effect=RuntimeError("a bug")):
        client.raise_request_exception = False
        response = client.get(reverse("tournaments:detail", args=[tournament.slug]))
    assert response.status_code == 500
