"""The copy-paste snippets an organizer puts on their own site (shown in the admin)."""

from django import template
from django.conf import settings
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("opendata/snippets/embed_admin.html")
def embed_snippets(tournament):
    """The script snippet, the iframe and the calendar feed of a tournament, with the public
    address (LINEUP_BASE_URL). The script's unhashed name stays the same across deploys."""
    base = settings.LINEUP_BASE_URL
    script_url = f"{base}/{settings.STATIC_URL.strip('/')}/lineup-embed.js"
    embed_url = base + reverse("opendata:embed", args=[tournament.slug])
    script = (
        f'<div data-lineup-tournament="{tournament.slug}"></div>\n'
        f'<script src="{script_url}" async></script>'
    )
    iframe = (
        f'<iframe src="{embed_url}" title="{tournament.name}: times" '
        'width="100%" height="480"></iframe>'
    )
    return {
        "tournament": tournament,
        "script": script,
        "iframe": iframe,
        "base": base,
        "feed_url": base + reverse("opendata:tournament_calendar", args=[tournament.slug]),
        "api_url": base + reverse("api-v1:tournament", args=[tournament.slug]),
        "published": tournament.status != "draft",
    }
