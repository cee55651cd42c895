"""E-mails in the back office: every message with its state (a filtered list, and a section on
each registration's page), "send again", and each tournament's own texts with a preview."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from common.admin.base import LineupMedia, admin_link, plural, status_badge
from common.times import local_stamp
from registrations.models import Notification, NotificationText
from registrations.notifications.messages import DEFAULT_TEXTS, preview
from registrations.notifications.outbox import notifications_send_again

READ_ONLY = [
    "registration_link",
    "kind",
    "recipient",
    "state",
    "attempts",
    "next_attempt_at",
    "sent_at",
    "error",
    "data",
    "created_at",
]


def state_badge(notification):
    return status_badge(notification.state, notification.get_state_display())


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "recipient",
        "registration_link",
        "tournament",
        "state_display",
        "attempts",
        "next_attempt_at",
        "error_excerpt",
    ]
    list_select_related = ["registration__tournament", "waitlist_entry__tournament"]
    list_filter = ["state", "kind", ("registration__tournament", admin.RelatedOnlyFieldListFilter)]
    search_fields = [
        "recipient",
        "=registration__reference",
        "registration__entrant_name",
        "=waitlist_entry__reference",
        "waitlist_entry__entrant_name",
    ]
    search_help_text = (
        "Address, entrant name, or the exact reference of the registration or waitlist entry."
    )
    fields = READ_ONLY
    readonly_fields = READ_ONLY
    actions = ["send_again"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False  # messages come from registration changes only

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what was sent stays

    @admin.display(description="about")
    def registration_link(self, notification):
        # A registration, or a waitlist entry (which has no registration yet).
        about = notification.registration or notification.waitlist_entry
        words = about.entrant_name
        if notification.registration is None:
            words = f"{words} (waitlist)"
        return admin_link(about, words)

    @admin.display(description="tournament", ordering="registration__tournament__name")
    def tournament(self, notification):
        return (notification.registration or notification.waitlist_entry).tournament

    @admin.display(description="state", ordering="state")
    def state_display(self, notification):
        return state_badge(notification)

    @admin.display(description="error")
    def error_excerpt(self, notification):
        return notification.error[:80]

    @admin.action(description="Send again", permissions=["change"])
    def send_again(self, request, queryset):
        queued = notifications_send_again(notifications=list(queryset))
        skipped = queryset.count() - queued
        self.message_user(request, f"Queued {plural(queued, 'e-mail')} to go out again.")
        if skipped:
            self.message_user(
                request, f"{plural(skipped, 'e-mail')} being sent right now left alone."
            )


class EmailsSection:
    """The registration's messages as a read-only section of its page (no formset, so the
    page's own form is unchanged); "send again" is on the messages' list, linked from here."""

    @admin.display(description="e-mails")
    def emails(self, registration):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    admin_link(n, local_stamp(n.created_at)),
                    n.get_kind_display(),
                    n.recipient,
                    state_badge(n),
                    n.attempts,
                    n.error[:80],
                )
                for n in registration.notifications.order_by("created_at")
            ),
        )
        if not rows:
            return "None yet."
        url = reverse("admin:registrations_notification_changelist")
        return format_html(
            "<table><tr><th>queued</th><th>kind</th><th>to</th><th>state</th><th>attempts</th>"
            '<th>error</th></tr>{}</table><p><a href="{}?q={}">All of them, to send again</a></p>',
            rows,
            url,
            registration.reference,
        )


@admin.register(NotificationText)
class NotificationTextAdmin(admin.ModelAdmin):
    list_display = ["tournament", "kind", "subject"]
    list_filter = ["kind", ("tournament", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["tournament"]
    autocomplete_fields = ["tournament"]
    fields = ["tournament", "kind", "subject", "intro", "defaults", "preview"]
    readonly_fields = ["defaults", "preview"]

    Media = LineupMedia

    @admin.display(description="default texts")
    def defaults(self, text):
        if not text.kind:
            return "Choose a kind and save to see its defaults."
        subject, intro = DEFAULT_TEXTS[text.kind]
        return format_html("Subject: {}<br>Intro: {}", subject, intro)

    @admin.display(description="preview (made-up entrant; save to refresh)")
    def preview(self, text):
        if not text.pk:
            return "Save to see the e-mail these texts make."
        subject, body, html = preview(
            text.tournament, text.kind, subject=text.subject, intro=text.intro
        )
        # The HTML body goes into a sandboxed frame: shown as the e-mail renders it, and
        # escaped into the attribute, so nothing in it runs in the admin page.
        return format_html(
            '<p><strong>{}</strong></p><pre class="lineup-email-text">{}</pre>'
            '<iframe sandbox srcdoc="{}" class="lineup-email-preview" title="The e-mail as '
            'it renders"></iframe>',
            subject,
            body,
            html,
        )
