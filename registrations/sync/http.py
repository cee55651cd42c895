"""The wire: which URLs may be called (never the server's own networks, unless a setting
allows it), Standard Webhooks signatures, and one POST to an address checked just before."""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from registrations.errors import UnsafeWebhookURL

TIMEOUT_SECONDS = 10
EXCERPT_BYTES = 1000


def webhook_url_check(url: str) -> list[str]:
    """The addresses `url`'s host resolves to, every one checked: http or https only, and no
    loopback, private, link-local or other non-public address unless
    `LINEUP_WEBHOOKS_ALLOW_PRIVATE`. Raises `UnsafeWebhookURL` with the reason."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeWebhookURL("This is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeWebhookURL("A webhook URL starts with http:// or https:// and names a host.")
    if parts.username or parts.password:
        raise UnsafeWebhookURL("A webhook URL may not carry a user name or password.")
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeWebhookURL(f"The host {parts.hostname} cannot be found.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not getattr(settings, "LINEUP_WEBHOOKS_ALLOW_PRIVATE", False):
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            mapped = getattr(ip, "ipv4_mapped", None) or ip
            if not mapped.is_global or mapped.is_multicast:
                raise UnsafeWebhookURL(
                    f"{parts.hostname} resolves to {address}, a private or local address: "
                    "webhooks go to public addresses only."
                )
    if not addresses:
        raise UnsafeWebhookURL(f"The host {parts.hostname} cannot be found.")
    return addresses


def webhook_signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the secret's decoded bytes
    (the part after "whsec_"), as the Standard Webhooks spec says."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def webhook_post(
    *, url: str, secret: str, msg_id: str, timestamp: int, body: bytes
) -> tuple[int, str]:
    """POST `body` signed to `url`; (status, the answer's first bytes). Redirects are never
    followed (a 3xx is a failed try). The host is resolved and checked again now (DNS may
    have changed since the URL was saved) and the connection goes to the checked address, so
    a second lookup cannot swap in another. Raises `UnsafeWebhookURL` or `OSError`."""
    address = webhook_url_check(url)[0]
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    # The Host header and the certificate check keep the name; only the socket is pinned.
    host = parts.hostname or ""  # never empty: webhook_url_check refused that
    connection = connection_class(host, parts.port, timeout=TIMEOUT_SECONDS)
    connection._create_connection = lambda where, *args: socket.create_connection(  # type: ignore[attr-defined]
        (address, where[1]), *args
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Lineup-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(
            secret=secret, msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
        return response.status, excerpt
    except http.client.HTTPException as exc:
        raise OSError(f"Bad answer: {exc!r}") from exc
    finally:
        connection.close()
