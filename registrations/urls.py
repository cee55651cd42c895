"""Public sign-up, and the private pages reached by a registration's reference."""

from django.urls import path

from registrations import views, waitlist_views

app_name = "registrations"

urlpatterns = [
    path("t/<slug:slug>/sign-up/", views.sign_up_page, name="create"),
    path("r/<str:reference>/", views.reference_page, name="detail"),
    path("r/<str:reference>/cancel/", views.cancel_page, name="cancel"),
    path("r/<str:reference>/confirm/", views.confirm_page, name="confirm"),
    path("t/<slug:slug>/waitlist/", waitlist_views.waitlist_join_page, name="waitlist_join"),
    path("w/<str:reference>/", waitlist_views.waitlist_page, name="waitlist"),
    path("w/<str:reference>/leave/", waitlist_views.waitlist_leave_page, name="waitlist_leave"),
    path("r/<str:reference>/change/", views.change_page, name="change"),
    path("lost-link/", views.lost_link_page, name="lost_link"),
    path("d/<str:code>/", views.door_code_page, name="door_code"),
]
