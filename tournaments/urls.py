"""Public tournament pages."""

from django.urls import path

from tournaments import views

app_name = "tournaments"

urlpatterns = [
    path("", views.tournament_list_page, name="list"),
    path("t/<slug:slug>/", views.tournament_page, name="detail"),
    path("t/<slug:slug>/schedule/", views.schedule_page, name="schedule"),
    path("t/<slug:slug>/screen/", views.screen_page, name="screen"),
]
