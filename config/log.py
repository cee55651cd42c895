"""Log records as JSON lines, each with the request id, and without contacts.

Filters run before the formatter: `RequestIdFilter` stamps the id of the request being served,
`ContactRedactingFilter` masks e-mail addresses and phone numbers in the message and in any
exception text (an IntegrityError's detail can quote a contact column).
"""

import logging
import re
import traceback

from config.request_id import current

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 8 to 15 digits, optionally after a +, with spaces, dots, dashes or brackets between them:
# phone numbers in any common format. Digits touching a colon (times) and ISO dates are kept.
PHONE = re.compile(r"(?<![\w+:])\+?\(?\d(?:[\s.()-]{0,2}\d){7,14}(?![\w:])")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _phone(match: re.Match[str]) -> str:
    return match.group(0) if ISO_DATE.match(match.group(0)) else "[phone]"


def redact(text: str) -> str:
    return PHONE.sub(_phone, EMAIL.sub("[email]", text))


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current.get()
        return True


class ContactRedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None  # formatters print exc_text instead
        return True
