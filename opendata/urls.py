"""The JSON API, the calendar feeds and the embeddable schedule."""

from django.urls import path

from opendata import views
from opendata.api import api

app_name = "opendata"

urlpatterns = [
    path("t/<slug:slug>/calendar.ics", views.tournament_calendar, name="tournament_calendar"),
    path("t/<slug:slug>/rooms/<uuid:room>/calendar.ics", views.room_calendar, name="room_calendar"),
    path("t/<slug:slug>/embed/", views.embed_page, name="embed"),
    path(
        "r/<str:reference>/calendar.ics", views.registration_calendar, name="registration_calendar"
    ),
]

api_urls = [path("api/v1/", api.urls)]
