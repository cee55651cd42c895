"""A self-hosted proof-of-work puzzle for sign-up forms of tournaments that ask for one.

The server hands out a signed, timestamped challenge with the form; the browser
(static/lineup.js) finds a nonce such that SHA-256("<challenge>:<nonce>") starts with
`bits` zero bits (about 2**bits hashes, a second or two on a phone) and sends it with the
form. Nothing leaves our servers: no third-party CAPTCHA.

Without JavaScript nobody can solve it, so the form falls back to a waiting period: a
submission without a nonce is accepted once the challenge is `LINEUP_POW_NOJS_SECONDS` old.
That costs a bot wall-clock time instead of CPU; together with the per-client rate limit it
still caps how fast one client can sign people up, and it never locks out a person.

Each challenge works for one sign-up only: the first form (idempotency key) that uses it
owns it, so a double-click of that same form still goes through.

The waiting period must be paid per entry, not once for a batch (load 50 forms, wait once,
submit all 50): only the last `OPEN_PER_CLIENT` challenges issued to a client address are
accepted without a solution. An older one is refused with a fresh challenge, so a person (two
tabs, or a school network shared with others) waits again but is never locked out.
"""

import hashlib
import secrets
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.translation import gettext_noop, ngettext_lazy

from common.errors import LineupError, Wording

_SALT = "lineup.proof-of-work"
# How long a challenge stays valid: long enough to fill in the form on a phone.
MAX_AGE_SECONDS = 30 * 60
# Open no-JavaScript challenges per client address: a family signing up two children in two
# tabs still passes; a batch gets this many entries per wait.
OPEN_PER_CLIENT = 3


class ProofOfWorkFailed(LineupError):
    """`keep_challenge`: resubmit the same challenge (a no-JavaScript wait still counting)."""

    message = gettext_noop("The browser check failed. Please submit again.")

    def __init__(
        self, message: Wording | None = None, *, keep_challenge: bool = False, **params: object
    ):
        super().__init__(message, **params)
        self.keep_challenge = keep_challenge


def _open_key(client: str) -> str:
    return "pow-open:" + hashlib.sha256(client.encode()).hexdigest()


def challenge_issue(*, tournament, client: str | None = None) -> str:
    """A new challenge; with `client` (the address, `config.client_ip`) it becomes one of
    that address's open ones, pushing out its oldest beyond `OPEN_PER_CLIENT`."""
    payload = {
        "t": str(tournament.pk),
        "b": settings.LINEUP_POW_BITS,
        "at": int(time.time()),
        "r": secrets.token_hex(8),
    }
    if client is not None:
        key = _open_key(client)
        # Read-then-write without a lock: a lost update only makes the bound a little looser.
        open_ids = [*(cache.get(key) or [])[-(OPEN_PER_CLIENT - 1) :], payload["r"]]
        cache.set(key, open_ids, MAX_AGE_SECONDS + 60)
    return signing.dumps(payload, salt=_SALT, compress=False)


def challenge_bits(challenge: str) -> int:
    return signing.loads(challenge, salt=_SALT)["b"]


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def solve(challenge: str) -> str:
    """What the browser does; used by tests and the benchmark's clients."""
    bits = challenge_bits(challenge)
    nonce = 0
    while True:
        digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
        if leading_zero_bits(digest) >= bits:
            return str(nonce)
        nonce += 1


def challenge_verify(
    *, tournament, challenge: str, nonce: str, owner: str, client: str | None = None, now=None
) -> None:
    """Accept a solved (or, without JavaScript, a waited-out) challenge once, for `owner`.

    Without a solution and with `client`, the challenge must also be one of the last
    `OPEN_PER_CLIENT` issued to that address. Raises `ProofOfWorkFailed` with a message for
    the person.
    """
    now = now or time.time()
    try:
        payload = signing.loads(challenge or "", salt=_SALT, max_age=MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise ProofOfWorkFailed(
            gettext_noop("This form was open too long. Please check the details and submit again.")
        ) from None
    except signing.BadSignature:
        raise ProofOfWorkFailed(
            gettext_noop("This form is incomplete. Please reload the page.")
        ) from None
    if payload.get("t") != str(tournament.pk):
        raise ProofOfWorkFailed(gettext_noop("This form is incomplete. Please reload the page."))
    nonce = (nonce or "").strip()
    if nonce:
        digest = hashlib.sha256(f"{challenge}:{nonce[:40]}".encode()).digest()
        if leading_zero_bits(digest) < payload["b"]:
            raise ProofOfWorkFailed()
    else:
        wait = settings.LINEUP_POW_NOJS_SECONDS - (now - payload["at"])
        if wait > 0:
            raise ProofOfWorkFailed(
                ngettext_lazy(
                    "To keep bots out, this tournament asks browsers without JavaScript to wait "
                    "a little: please press the button again in {seconds} second.",
                    "To keep bots out, this tournament asks browsers without JavaScript to wait "
                    "a little: please press the button again in {seconds} seconds.",
                    "seconds",
                ),
                keep_challenge=True,
                seconds=int(wait) + 1,
            )
        if client is not None and payload.get("r") not in (cache.get(_open_key(client)) or []):
            raise ProofOfWorkFailed(
                ngettext_lazy(
                    "This form was opened several more times from your network since, and "
                    "only the latest ones count without JavaScript. Please wait {seconds} "
                    "second and press the button again.",
                    "This form was opened several more times from your network since, and "
                    "only the latest ones count without JavaScript. Please wait {seconds} "
                    "seconds and press the button again.",
                    "seconds",
                ),
                seconds=settings.LINEUP_POW_NOJS_SECONDS,
            )
    key = "pow:" + hashlib.sha256(challenge.encode()).hexdigest()
    if not cache.add(key, owner, MAX_AGE_SECONDS + 60) and cache.get(key) != owner:
        raise ProofOfWorkFailed(gettext_noop("This form was already used. Please reload the page."))
