"""The audit log: read-only, searchable; each object's History button opens its trail."""

import uuid

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from common.admin.base import LineupMedia
from common.audit_sentences import audit_sentence, audit_sentences
from common.models import AuditEvent
from common.times import local_when


def _target_admins():
    """model_name → (model, admin URL name) for every model audit events can point at."""
    return {
        model._meta.model_name: (
            model,
            f"admin:{model._meta.app_label}_{model._meta.model_name}_change",
        )
        for model in admin.site._registry
    }


class TargetFilter(admin.SimpleListFilter):
    """Set by each object's History button: this object's events only."""

    title = "object"
    parameter_name = "target_id"

    def lookups(self, request, model_admin):
        value = self.value()
        if not value:
            return []
        try:
            uuid.UUID(value)
        except ValueError:
            return [(value, "unknown object")]
        event = AuditEvent.objects.filter(target_id=value).only("target_type").first()
        label = value
        if event is not None:
            model, _ = _target_admins().get(event.target_type, (None, None))
            obj = model._default_manager.filter(pk=value).first() if model else None
            label = f"{event.target_type}: {obj}" if obj else f"{event.target_type} (deleted)"
        return [(value, label)]

    def queryset(self, request, queryset):
        if self.value():
            try:
                return queryset.filter(target_id=self.value())
            except ValidationError:  # not a UUID
                return queryset.none()
        return queryset


# What each kind of target's str() reads from related rows.
_NAME_NEEDS = {
    "registration": ["tournament"],
    "slot": ["location"],
    "timeblock": ["tournament", "location"],
    "tournamentlocation": ["tournament", "location"],
}


def audit_events_named(events):
    """Give each event its target's live name (`target_name`, None once deleted) and its
    `sentence`: one query per kind of target and one for the staff's names, never per row."""
    events = list(events)
    wanted = {}
    for event in events:
        wanted.setdefault(event.target_type, set()).add(event.target_id)
    targets = _target_admins()
    names = {}
    for kind, ids in wanted.items():
        model = targets.get(kind, (None,))[0]
        if model is None:
            continue
        queryset = model._default_manager.filter(pk__in=ids).select_related(
            *_NAME_NEEDS.get(kind, ())
        )
        names.update({obj.pk: str(obj) for obj in queryset})
    for event in events:
        event.target_name = names.get(event.target_id)
    sentences = audit_sentences(events)
    for event in events:
        event.sentence = sentences[event.pk]
    return events


def audit_events_recent(*, limit=10):
    """The latest events, named, for the dashboard."""
    events = AuditEvent.objects.select_related("tournament").order_by("-created_at")[:limit]
    events = audit_events_named(events)
    for event in events:
        event.when = local_when(event.created_at)
        event.url = reverse("admin:common_auditevent_change", args=[event.pk])
    return events


class AuditChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        audit_events_named(self.result_list)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["when", "sentence", "target_display", "tournament"]
    list_display_links = ["when"]
    list_select_related = ["tournament"]
    list_filter = [TargetFilter, "action", ("tournament", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["actor", "action", "target_type", "=target_id", "payload"]
    search_help_text = "Who (e.g. admin:alice), what (e.g. registration.move), or words in it."
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_per_page = 50
    fields = readonly_fields = (
        "when",
        "sentence",
        "actor",
        "action",
        "target_display",
        "tournament",
        "payload_display",
    )

    Media = LineupMedia

    def get_changelist(self, request, **kwargs):
        return AuditChangeList

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="when", ordering="created_at")
    def when(self, event):
        return local_when(event.created_at, year=True)

    @admin.display(description="what happened")
    def sentence(self, event):
        if not hasattr(event, "sentence"):  # the detail page: one event, its live name too
            event.target_name = self._live_name(event)
            event.sentence = audit_sentence(event)
        return event.sentence

    def _live_name(self, event):
        model = _target_admins().get(event.target_type, (None,))[0]
        obj = model._default_manager.filter(pk=event.target_id).first() if model else None
        return str(obj) if obj else None

    @admin.display(description="what it happened to")
    def target_display(self, event):
        name = getattr(event, "target_name", None)
        if name is None and not hasattr(event, "target_name"):
            name = event.target_name = self._live_name(event)
        label = f"{event.target_type}: {name}" if name else f"{event.target_type} (deleted)"
        url_name = _target_admins().get(event.target_type, (None, None))[1]
        if name and url_name:
            try:
                return format_html(
                    '<a href="{}">{}</a>', reverse(url_name, args=[event.target_id]), label
                )
            except NoReverseMatch:
                pass
        return label

    @admin.display(description="everything it recorded")
    def payload_display(self, event):
        rows = format_html_join("", "<dt>{}</dt><dd>{}</dd>", sorted(event.payload.items()))
        return format_html('<dl class="lineup-payload">{}</dl>', rows)
