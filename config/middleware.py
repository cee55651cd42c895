"""Turn the two "not now" exceptions into friendly pages instead of errors.

`Busy` (a lock wait ran out in the reservation engine) becomes 503 with Retry-After, and
django-ratelimit's `Ratelimited` becomes 429: both say "try again in a moment" rather than
the 500 or 403 they would otherwise be. Both are counted in lineup_refusals_total.
"""

from django.shortcuts import render
from django_ratelimit.exceptions import Ratelimited

from common import metrics
from common.locking import Busy


class FriendlyErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Busy | Ratelimited):
            metrics.refusal_counted(exception)
        if isinstance(exception, Busy):
            response = render(request, "503.html", {"message": exception.message}, status=503)
            response["Retry-After"] = "5"
            return response
        if isinstance(exception, Ratelimited):
            response = render(request, "429.html", status=429)
            response["Retry-After"] = "60"
            return response
        return None
