"""JSON log lines with the request id, and no contacts in them."""

import io
import json
import logging
from logging.config import dictConfig

import pytest
from django.conf import settings

from config.log import redact
from config.request_id import current


@pytest.fixture
def log_lines():
    """The production logging configuration (JSON), writing into a buffer."""
    stream = io.StringIO()
    console = {**settings.LOGGING["handlers"]["console"], "formatter": "json", "stream": stream}
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    dictConfig({**settings.LOGGING, "handlers": {"console": console}})
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.handlers = handlers
    root.setLevel(level)


def test_a_log_line_is_json_with_the_request_id(log_lines):
    token = current.set("abc123request")
    try:
        logging.getLogger("lineup.test").warning("slot %s is full", 7)
    finally:
        current.reset(token)
    (line,) = log_lines()
    assert line["message"] == "slot 7 is full"
    assert line["request_id"] == "abc123request"
    assert line["level"] == "WARNING" and line["logger"] == "lineup.test"


def test_contacts_are_masked_in_messages_and_tracebacks(log_lines):
    try:
        raise ValueError("Key (contact_email)=(parent@example.com) already exists")
    except ValueError:
        logging.getLogger("lineup.test").exception(
            "sign-up by %s / %s failed", "jo.doe+x@mail.example.org", "+44 20 7946 0958"
        )
    (line,) = log_lines()
    text = json.dumps(line)
    assert "example.com" not in text and "mail.example.org" not in text
    assert "7946" not in text
    assert line["message"] == "sign-up by [email] / [phone] failed"
    assert "[email]" in line["exc_info"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call 0555 010 1234", "call [phone]"),
        ("call (555) 010-1234 now", "call [phone] now"),
        ("mail a.b@c.de", "mail [email]"),
        ("slot 42 has 3 places", "slot 42 has 3 places"),
        ("took 1234 ms", "took 1234 ms"),
        (
            "older than 2026-12-02 03:55:01.850877+00:00",
            "older than 2026-12-02 03:55:01.850877+00:00",
        ),
    ],
)
def test_what_is_masked(text, expected):
    assert redact(text) == expected
