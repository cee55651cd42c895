"""Public URLs for a registration, reached by its private reference."""

from django.urls import path

from registrations import views

app_name = "registrations"

urlpatterns = [
    path("r/<str:reference>/", views.registration_detail, name="detail"),
]
