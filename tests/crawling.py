"""A crawler for the tests: follows the links of a site section with Django's test client and
reports what is broken, visiting a few links of each kind (path without ids, names of its
query parameters), so a new page, filter or download is covered once something links to it."""

import html
import re
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

ID = re.compile(r"/(?:\d+|[0-9a-f]{8}-[0-9a-f-]{27})(?=/|$)")
PER_KIND = 2
MOST = 700


def kind(url: str) -> tuple[str, tuple[str, ...]]:
    """A link's kind: its path with ids taken out and the names of its query parameters."""
    parts = urlsplit(url)
    return ID.sub("/<id>", parts.path), tuple(sorted({k for k, _ in parse_qsl(parts.query)}))


def crawl(
    client, *, start: str, under: str, skip: tuple[str, ...] = (), refused_is_broken: bool = True
) -> tuple[Counter, list[str]]:
    """Statuses seen from `start` following links under `under`, and the links that are broken:
    a server error, a link to nothing or to a page that only takes a form (404, 405), and for a
    visitor who should see every page a refusal (403)."""
    link = re.compile(r'href="(' + re.escape(under) + r'[^"#]*)"')
    queue, seen, kinds, statuses, broken = [start], {start}, Counter(), Counter(), []
    while queue and sum(statuses.values()) < MOST:
        url = queue.pop(0)
        response = client.get(url)
        status = response.status_code
        statuses[status] += 1
        if status >= 500 or status in (404, 405) or (status == 403 and refused_is_broken):
            broken.append(f"{status} {url}")
        if status >= 400 or response.streaming:
            continue
        if "html" not in response.get("Content-Type", ""):
            continue
        for found in link.findall(response.content.decode()):
            target = html.unescape(found)
            if target in seen or target.startswith(skip):
                continue
            seen.add(target)
            if kinds[kind(target)] < PER_KIND:
                kinds[kind(target)] += 1
                queue.append(target)
    return statuses, broken
