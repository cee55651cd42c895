"""Deploy checks for the settings around the client's address."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_client_ip_header_is_trusted(app_configs, **kwargs):
    """A client-address header believed from anyone lets a client choose its rate-limit key."""
    if not settings.LINEUP_CLIENT_IP_HEADER or settings.LINEUP_TRUSTED_PROXIES:
        return []
    return [
        checks.Warning(
            f"RATELIMIT_IP_META_KEY={settings.LINEUP_CLIENT_IP_HEADER} is set but "
            "LINEUP_TRUSTED_PROXIES is empty, so the header is never believed and every "
            "client behind the proxy shares the proxy's rate limit.",
            hint="Set LINEUP_TRUSTED_PROXIES to the proxy's address(es), e.g. 127.0.0.1.",
            id="lineup.W010",
        )
    ]
