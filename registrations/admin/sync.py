"""Sync in the back office: each tournament's webhook endpoints, every delivery with its tries
and "send again", and each registration's sync status (a list column and filter, and a section
on its page)."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from common.admin.base import admin_actor, admin_link, plural, status_badge
from common.times import local_stamp
from registrations.errors import UnsafeWebhookURL
from registrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from registrations.sync.delivery import webhooks_send_again
from registrations.sync.endpoints import webhook_endpoint_save, webhook_secret_check
from registrations.sync.http import webhook_url_check
from registrations.sync.selectors import SYNC_STATUSES, registrations_with_sync_status


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=WebhookEndpoint.Event.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["tournament", "url", "secret", "events", "active"]

    def clean_url(self):
        try:
            webhook_url_check(self.cleaned_data["url"])
        except UnsafeWebhookURL as exc:
            raise forms.ValidationError(exc.message) from exc
        return self.cleaned_data["url"]

    def clean_secret(self):
        try:
            webhook_secret_check(self.cleaned_data["secret"])
        except UnsafeWebhookURL as exc:
            raise forms.ValidationError(exc.message) from exc
        return self.cleaned_data["secret"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "tournament", "active", "events_display", "disabled_reason"]
    list_filter = ["active", ("tournament", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["tournament"]
    autocomplete_fields = ["tournament"]
    readonly_fields = ["disabled_reason"]

    def has_delete_permission(self, request, obj=None):
        return False  # switched off instead: its delivery log stays

    @admin.display(description="events")
    def events_display(self, endpoint):
        return ", ".join(endpoint.events) or "all"

    def save_model(self, request, obj, form, change):
        webhook_endpoint_save(endpoint=obj, actor=admin_actor(request))


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["at", "status_code", "duration_ms", "response_excerpt", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def state_badge(delivery):
    return status_badge(delivery.state, delivery.get_state_display())


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "event",
        "registration_link",
        "endpoint",
        "state_display",
        "attempts",
        "next_attempt_at",
        "error_excerpt",
    ]
    list_select_related = ["registration", "endpoint"]
    list_filter = ["state", "event", ("endpoint__tournament", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=registration__reference", "registration__entrant_name", "endpoint__url"]
    search_help_text = "Entrant name, endpoint URL, or the registration's exact reference."
    fields = ["registration_link", "endpoint", "event", "state", "attempts", "next_attempt_at"]
    fields += ["sent_at", "error", "payload", "created_at"]
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False  # deliveries come from registration changes only

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="registration")
    def registration_link(self, delivery):
        return admin_link(delivery.registration, delivery.registration.entrant_name)

    @admin.display(description="state", ordering="state")
    def state_display(self, delivery):
        return state_badge(delivery)

    @admin.display(description="error")
    def error_excerpt(self, delivery):
        return delivery.error[:80]

    @admin.action(description="Send again (with the later changes of each registration)")
    def send_again(self, request, queryset):
        queued = webhooks_send_again(deliveries=list(queryset))
        self.message_user(request, f"Queued {plural(queued, 'delivery', 'deliveries')} again.")


class SyncStatusFilter(admin.SimpleListFilter):
    title = "sync status"
    parameter_name = "sync"

    def lookups(self, request, model_admin):
        return list(SYNC_STATUSES.items())

    def queryset(self, request, queryset):
        if self.value() in SYNC_STATUSES:
            return queryset.filter(sync_status=self.value())
        return queryset


class SyncSection:
    """A registration's sync status (annotated on the list) and its deliveries on its page."""

    def get_queryset(self, request):
        return registrations_with_sync_status(registrations=super().get_queryset(request))

    @admin.display(description="sync", ordering="sync_status")
    def sync_status(self, registration):
        status = getattr(registration, "sync_status", "")
        return status_badge(status, SYNC_STATUSES[status]) if status else "—"

    @admin.display(description="webhook deliveries")
    def webhooks(self, registration):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    admin_link(d, local_stamp(d.created_at)),
                    d.event,
                    d.endpoint.url,
                    state_badge(d),
                    d.attempts,
                    d.error[:80],
                )
                for d in registration.webhook_deliveries.select_related("endpoint").order_by("id")
            ),
        )
        if not rows:
            return "None: the tournament has no webhook endpoints."
        url = reverse("admin:registrations_webhookdelivery_changelist")
        return format_html(
            "<p>Sync status: {}</p><table><tr><th>changed</th><th>event</th><th>endpoint</th>"
            "<th>state</th><th>tries</th><th>error</th></tr>{}</table>"
            '<p><a href="{}?q={}">All of them, to send again</a></p>',
            self.sync_status(registration),
            rows,
            url,
            registration.reference,
        )
