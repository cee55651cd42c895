"""Public sign-up, and the private pages reached by a registration's reference."""

from django.urls import path

from registrations import views

app_name = "registrations"

urlpatterns = [
    path("t/<slug:slug>/sign-up/", views.sign_up_page, name="create"),
    path("r/<str:reference>/", views.reference_page, name="detail"),
    path("r/<str:reference>/cancel/", views.cancel_page, name="cancel"),
    path("r/<str:reference>/confirm/", views.confirm_page, name="confirm"),
    path("r/<str:reference>/change/", views.change_page, name="change"),
    path("lost-link/", views.lost_link_page, name="lost_link"),
]
