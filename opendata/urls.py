"""The JSON API, the calendar feeds and the embeddable schedule."""

from django.http import JsonResponse
from django.urls import path, re_path

from opendata import views
from opendata.api import api

app_name = "opendata"

urlpatterns = [
    path("t/<slug:slug>/calendar.ics", views.tournament_calendar, name="tournament_calendar"),
    path("t/<slug:slug>/rooms/<uuid:room>/calendar.ics", views.room_calendar, name="room_calendar"),
    path("t/<slug:slug>/embed/", views.embed_page, name="embed"),
    path("embed/words.json", views.embed_words, name="embed_words"),
    path(
        "r/<str:reference>/calendar.ics", views.registration_calendar, name="registration_calendar"
    ),
]


def api_not_found(request, rest):
    """Any other address under the API: a JSON 404 like the API's own, not the HTML page."""
    return JsonResponse(
        {"detail": "No such address in the API: see /api/v1/openapi.json."}, status=404
    )


api_urls = [path("api/v1/", api.urls), re_path(r"^api/(?P<rest>.*)$", api_not_found)]
