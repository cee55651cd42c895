"""Site-wide error views that need more than Django's defaults."""

from django.http import HttpRequest, HttpResponseServerError
from django.template import loader


def server_error(request: HttpRequest) -> HttpResponseServerError:
    """Django's 500 view renders without context; this one passes the request id only (a
    crashed request must not run context processors that could fail again)."""
    template = loader.get_template("500.html")
    return HttpResponseServerError(
        template.render({"request_id": getattr(request, "request_id", "")})
    )
