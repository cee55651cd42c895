"""Cheap polling for the API and the calendar feeds: each answer is kept in the shared cache
for a few seconds and carries an ETag and a Last-Modified, so a client that asks again with
If-None-Match or If-Modified-Since gets a bodyless 304.

The ETag is a hash of the body, so it changes exactly when the answer does. Last-Modified
is when this server first gave the current body: the first answer's time is remembered with
its ETag for a day and kept as long as the body stays the same.
"""

import hashlib
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag

# What the first answer's time is remembered for (a body unchanged longer than this gets a
# newer Last-Modified: harmless, clients just fetch it once more).
_SEEN_SECONDS = 24 * 3600
# Headers of the answer that are kept with its body.
_KEPT_HEADERS = ("Content-Type", "Content-Disposition")


def _key(request: HttpRequest) -> str:
    query = sorted(request.GET.lists())
    # Answers hold absolute links: the address they were asked at is part of the key.
    raw = f"{request.scheme}://{request.get_host()}{request.path}?{query!r}".encode()
    return "lineup:opendata:v1:" + hashlib.sha256(raw).hexdigest()


def conditional_cached(seconds: int) -> Callable:
    """A view decorator: answers (200s only) are cached `seconds` for every client and sent
    with ETag, Last-Modified and `Cache-Control: public, max-age=seconds`; conditional GETs
    that match get a 304."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                return view(request, *args, **kwargs)
            key = _key(request)
            entry = cache.get(key)
            if entry is None:
                response = view(request, *args, **kwargs)
                if response.status_code != 200 or response.streaming:
                    return response
                body = response.content
                etag = quote_etag(hashlib.sha256(body).hexdigest()[:32])
                seen = cache.get(key + ":seen")
                first = seen[1] if seen and seen[0] == etag else time.time()
                headers = {h: response[h] for h in _KEPT_HEADERS if response.has_header(h)}
                entry = (body, headers, etag, first)
                cache.set(key, entry, seconds)
                cache.set(key + ":seen", (etag, first), _SEEN_SECONDS)
            body, headers, etag, first = entry
            last_modified = http_date(first)
            response = get_conditional_response(
                request, etag=etag, last_modified=int(first)
            ) or HttpResponse(body)
            for header, value in headers.items():
                if response.status_code == 200 or header != "Content-Type":
                    response[header] = value
            response["ETag"] = etag
            response["Last-Modified"] = last_modified
            patch_cache_control(response, public=True, max_age=seconds)
            return response

        return wrapped

    return decorator
