"""Public participant search."""

from django.urls import path

from participants import views

app_name = "participants"

urlpatterns = [
    path("t/<slug:slug>/find/", views.find_yourself_page, name="search"),
]
