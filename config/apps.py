from django.contrib.admin.apps import AdminConfig


class LineupAdminConfig(AdminConfig):
    """The admin app with Lineup's site as `admin.site`, so every app's `@admin.register`
    lands on the site that enforces the second factor."""

    default_site = "config.admin_site.LineupAdminSite"
