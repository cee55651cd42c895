"""Public sign-up, and the private pages reached by a registration's reference."""

from django.urls import path

from registrations import views

app_name = "registrations"

urlpatterns = [
    path("t/<slug:slug>/sign-up/", views.sign_up_page, name="create"),
    path("r/<str:reference>/", views.reference_page, name="detail"),
    path("r/<str:reference>/cancel/", views.cancel_page, name="cancel"),
    path("r/<str:reference>/confirm/", views.confirm_page, name="confirm"),
]
