"""Phone numbers as people type them: one key per number, whatever its country prefix."""

import phonenumbers
from django.conf import settings


def phone_key(raw: str) -> str:
    """The number's national digits, the same for '+44 20 7946 0958', '0044 20 7946 0958' and
    '020 7946 0958': what a lost-link request matches and counts by.

    A number with its country code is read as such; one without is read in the region of
    `LINEUP_PHONE_REGION` when it is set, else by its digits without trunk zeros (right
    wherever the trunk prefix is a 0 that the international form drops, as in most of Europe).
    """
    region = settings.LINEUP_PHONE_REGION or None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and number.national_number:
        return phonenumbers.national_significant_number(number)
    return "".join(c for c in raw if c.isdigit()).lstrip("0")
