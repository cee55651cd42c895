from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from opendata.urls import api_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    # The language switcher's POST (Django's set_language: a cookie, then back to the page it
    # came from, by its Referer). Without a CSRF token: a forged POST can only change a
    # language, and a token (or a `next` path) in every footer would make pages that must be
    # alike differ (a lost-link answer, the 404 for any reference).
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("", include("tournaments.urls")),
    path("", include("participants.urls")),
    path("", include("registrations.urls")),
    path("", include("results.urls")),
    path("", include("opendata.urls")),
    *api_urls,
]

handler500 = "config.views.server_error"
