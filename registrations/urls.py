"""Public sign-up, and the private pages reached by a registration's reference."""

from django.urls import path

from registrations import views

app_name = "registrations"

urlpatterns = [
    path("t/<slug:slug>/sign-up/", views.registration_create, name="create"),
    path("r/<str:reference>/", views.registration_detail, name="detail"),
    path("r/<str:reference>/cancel/", views.registration_cancel, name="cancel"),
    path("r/<str:reference>/confirm/", views.registration_confirm, name="confirm"),
]
