"""The QR code of an entry's check-in: on the confirmation page and in the e-mails that say
when to come. It holds one address, the door's page for that entry, which names the entry by
its id only: nothing private, and nothing a person who is not staff can open (the admin's
login stands in front of it). Made here by segno; no service on the network sees it."""

import base64
import binascii
import hashlib
import io
from uuid import UUID

import segno
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

LABEL = gettext_lazy("QR code to check in at the door")
# The e-mail's image is a part of the message, referred to by this id (no remote image).
CONTENT_ID = "check-in-qr"


def door_code(registration_id: UUID) -> str:
    """The entry's id in 26 lower-case letters and digits (base32 of its 16 bytes)."""
    return base64.b32encode(registration_id.bytes).decode().rstrip("=").lower()


def registration_id_of(code: str) -> UUID | None:
    """The entry id a door code stands for, or None for anything that is not one."""
    if len(code) != 26:
        return None
    try:
        return UUID(bytes=base64.b32decode(code.upper() + "======"))
    except (binascii.Error, ValueError):
        return None


def check_in_path(registration_id: UUID) -> str:
    """The short address the code holds, which forwards to the door's page of the entry (the
    admin's, behind its login). The admin's own address made a version 7 code (45 x 45
    modules); this one a version 4 or 5 (33 x 33 or 37 x 37, by the site's name): bigger
    modules at the same print size for the door's phone to read, and half the work to make."""
    return reverse("registrations:door_code", args=[door_code(registration_id)])


def check_in_url(registration_id: UUID) -> str:
    """The full address, for the e-mail (the page builds it from its own request)."""
    return settings.LINEUP_BASE_URL + check_in_path(registration_id)


# The mask segno chose for an address, remembered: choosing scores all eight masks, ~80% of
# making a code (~5 of 6 ms), and the page and the e-mail show the same address. Any mask
# makes a valid code, so a lost or evicted entry only costs the choice again.
_MASK_KEY = "lineup:qr-mask:{digest}"
_MASK_SECONDS = 24 * 60 * 60


def mask_key(url: str) -> str:
    return _MASK_KEY.format(digest=hashlib.blake2b(url.encode(), digest_size=16).hexdigest())


def _code(url: str) -> segno.QRCode:
    key = mask_key(url)
    mask = cache.get(key)
    # Medium error correction: still reads from a scratched phone screen or a creased print.
    code = segno.make(url, error="m", micro=False, mask=mask)
    if mask is None:
        cache.set(key, code.mask, _MASK_SECONDS)
    return code


def qr_svg(url: str) -> SafeString:
    """The code as inline SVG (no style attribute or script: the page's CSP holds)."""
    svg = _code(url).svg_inline(scale=4, dark="#000", light="#fff")
    labelled = svg.replace("<svg ", format_html('<svg role="img" aria-label="{}" ', LABEL), 1)
    return mark_safe(labelled)  # segno's own markup; the address is not in it as text


def qr_png(url: str) -> bytes:
    out = io.BytesIO()
    _code(url).save(out, kind="png", scale=5, dark="#000", light="#fff")
    return out.getvalue()
