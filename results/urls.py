"""Public results pages."""

from django.urls import path

from results import views

app_name = "results"

urlpatterns = [
    path("t/<slug:slug>/results/", views.results_page, name="detail"),
    path("t/<slug:slug>/results.csv", views.results_csv, name="csv"),
    path("series/<slug:slug>/", views.leaderboard_page, name="leaderboard"),
    path("series/<slug:slug>/leaderboard.csv", views.leaderboard_csv, name="leaderboard_csv"),
]
