from django.contrib import admin
from django.urls import include, path

from opendata.urls import api_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    # The language switcher's POST (Django's set_language: a cookie, then back to the page).
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("tournaments.urls")),
    path("", include("participants.urls")),
    path("", include("registrations.urls")),
    path("", include("results.urls")),
    path("", include("opendata.urls")),
    *api_urls,
]

handler500 = "config.views.server_error"
