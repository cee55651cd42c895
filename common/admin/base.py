"""Pieces every app's admin shares: who is acting, running a service over a selection with
one summary message, intermediate action pages, and django-filter filters in the sidebar."""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from common.errors import LineupError
from common.text import fold, plural
from common.times import local_when, time_zone_validate, tournament_zone, zone

# What the services may refuse with; each carries a message fit for an organizer.
REFUSALS = (LineupError,)


def admin_actor(request) -> str:
    return f"admin:{request.user.get_username()}"


def run_for_each(modeladmin, request, objects, service, *, done, unchanged=None, noun=None):
    """Call `service(obj)` for each object; report successes as one message with a count and
    each refusal with the object and the service's own message.

    `service` returns False for "nothing to do" (counted under `unchanged`). `done` may be
    a function called once all ran, for words that depend on the result (a capacity after).
    Returns the objects the service changed.
    """
    noun = noun or modeladmin.model._meta.verbose_name
    changed, same, refused = [], [], []
    for obj in objects:
        try:
            result = service(obj)
        except REFUSALS as exc:
            refused.append((obj, exc.message))
            continue
        (same if result is False else changed).append(obj)
    if changed:
        done_words = done() if callable(done) else done
        modeladmin.message_user(
            request, f"{capfirst(plural(len(changed), noun))} {done_words}.", messages.SUCCESS
        )
    if same and unchanged:
        modeladmin.message_user(
            request, f"{capfirst(plural(len(same), noun))} {unchanged}.", messages.INFO
        )
    for obj, message in refused:
        modeladmin.message_user(request, f"{obj}: {message}", messages.ERROR)
    return changed


def action_page(
    modeladmin,
    request,
    queryset,
    *,
    action,
    title,
    form=None,
    intro="",
    rows=(),
    submit="Confirm",
    danger=False,
    template="admin/lineup/action_form.html",
    **extra,
):
    """The intermediate page of an admin action that needs input or a confirmation.

    It posts back to the changelist with the same action and selection plus `confirm`, so the
    action runs again with `request.POST` and can validate the form.
    """
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": opts,
        "app_label": opts.app_label,
        "action": action,
        "form": form,
        "intro": intro,
        "rows": rows,
        "submit": submit,
        "danger": danger,
        "selected": [str(pk) for pk in queryset.values_list("pk", flat=True)],
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media + (form.media if form is not None else forms.Media()),
        **extra,
    }
    return TemplateResponse(request, template, context)


def confirmed(request):
    return request.method == "POST" and request.POST.get("confirm") == "yes"


def admin_link(obj, text=None):
    """A link to an object's admin change page (no query: uses what is loaded)."""
    if obj is None:
        return "—"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


def registrations_table(registrations, *, empty="No registrations."):
    """Registrations as a small read-only table on a change page (links to each one)."""
    rows = [
        (
            reverse("admin:registrations_registration_change", args=[r.pk]),
            r.entrant_name,
            r.tournament.name,
            r.slot and zoned_when(r, r.slot.starts_at),
            r.get_status_display(),
            r.seats,
            r.contact_email or "—",
        )
        for r in registrations.select_related("tournament", "slot")
    ]
    if not rows:
        return empty
    body = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
        "<td>{}</td></tr>",
        (
            (url, name, t, when or "no slot", status, seats, email)
            for url, name, t, when, status, seats, email in rows
        ),
    )
    return format_html(
        '<table class="lineup-table"><thead><tr><th>Entrant</th><th>Tournament</th>'
        "<th>Slot</th><th>Status</th><th>Places</th><th>E-mail</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        body,
    )


def audit_log_url(**params):
    return reverse("admin:common_auditevent_changelist") + "?" + urlencode(params)


def history_link(obj):
    return format_html('<a href="{}">history</a>', audit_log_url(target_id=obj.pk))


class AuditHistoryMixin:
    """The admin's History button shows the object's audit trail: what happened, who, when."""

    def history_view(self, request, object_id, extra_context=None):
        if not self.has_view_or_change_permission(request):
            return super().history_view(request, object_id, extra_context)
        return redirect(audit_log_url(target_id=object_id))


class ChangesRegistrationsMixin:
    """For actions of other models' admins that create, move or cancel registrations:
    `permissions=["change_registrations"]` asks for the change permission on the admin's own
    model and the registration permissions too (Django offers an action when ANY of its
    listed permissions holds, so they are combined here)."""

    def has_change_registrations_permission(self, request):
        return self.has_change_permission(request) and request.user.has_perms(
            ("registrations.add_registration", "registrations.change_registration")
        )


class ServiceErrorsMixin:
    """A service that refuses a save (a race the form could not see) becomes a message and a
    fresh form, never a 500; the admin's transaction around the save is rolled back."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except REFUSALS as exc:
            self.message_user(request, f"Nothing was saved: {exc.message}", messages.ERROR)
            return redirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except REFUSALS as exc:
            self.message_user(request, f"Nothing was deleted: {exc.message}", messages.ERROR)
            return redirect(request.get_full_path())

    def response_action(self, request, queryset):
        # The bulk "delete selected" goes through delete_queryset, which may refuse too.
        try:
            return super().response_action(request, queryset)
        except REFUSALS as exc:
            self.message_user(request, f"Nothing was deleted: {exc.message}", messages.ERROR)
            return redirect(request.get_full_path())


class FilterSetListFilter(admin.ListFilter):
    """A sidebar filter driven by a django-filter FilterSet: for inputs the admin's own list
    filters lack (a date picker, ranges). Its parameters stay in the changelist's links."""

    filterset_class = None
    template = "admin/lineup/filterset_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in self.expected_parameters():
            if name in params:
                self.used_parameters[name] = params.pop(name)[-1]
        self.filterset = self.filterset_class(
            data=self.used_parameters or None, queryset=model._default_manager.none()
        )

    def expected_parameters(self):
        return list(self.filterset_class.base_filters)

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        if not self.used_parameters:
            return queryset
        filterset = self.filterset_class(data=self.used_parameters, queryset=queryset)
        if not filterset.is_valid():
            raise IncorrectLookupParameters(filterset.errors)
        return filterset.qs

    def choices(self, changelist):
        ours = set(self.expected_parameters())
        keep = [
            (name, value)
            for name, values in changelist.params.items()
            for value in (values if isinstance(values, list) else [values])
            if name not in ours and name not in {"p", "e"}
        ]
        yield {
            "hidden": keep,
            "active": bool(self.used_parameters),
            "clear_url": changelist.get_query_string(remove=list(ours)),
        }


def folded_terms(search_term):
    """The search words as `fold` stores them (no accents, lower case)."""
    return fold(search_term).split()


def folded_name_q(path, search_term):
    query = Q()
    for bit in folded_terms(search_term):
        query &= Q(**{f"{path}__contains": bit})
    return query


class LineupMedia:
    css = {"all": ["lineup_admin/admin.css"]}


def status_badge(value, label):
    return format_html('<span class="lineup-badge lineup-badge--{}">{}</span>', value, label)


class LabelledFieldsMixin:
    """Inputs a screen reader can name (axe): each half of a date-and-time field says which
    half it is, and a tabular inline's inputs, headed by a column rather than a label, carry
    their field's name."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is None:
            return None
        label = capfirst(str(formfield.label or db_field.verbose_name))
        widget = getattr(formfield.widget, "widget", formfield.widget)  # inside the wrapper
        if isinstance(widget, forms.MultiWidget):
            for half, name in zip(widget.widgets, ("date", "time"), strict=False):
                half.attrs.setdefault("aria-label", f"{label}: {name}")
        elif isinstance(self, admin.TabularInline):
            widget.attrs.setdefault("aria-label", label)
        return formfield

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class LabelledFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                if "DELETE" in form.fields:  # the row's "delete?" box, under a column heading
                    form.fields["DELETE"].widget.attrs.setdefault("aria-label", "Delete this row")

        return LabelledFormSet


# --- time zones ------------------------------------------------------------------------------


class ZonedTimesMixin:
    """Date-time fields say which zone they are typed in (the current one, which the change
    page sets to the tournament's)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(db_field, models.DateTimeField) and field is not None:
            zone_name = timezone.get_current_timezone_name()
            note = f"Local time in {zone_name}."
            field.help_text = f"{field.help_text} {note}".strip() if field.help_text else note
        return field


class TournamentZoneMixin(ZonedTimesMixin):
    """An admin of a tournament-scoped model: its change and add pages show and read every time
    in the tournament's zone (a new object's tournament comes from the form or the query
    string, as `tournament=<id>`), its list does so when filtered to one tournament.

    The zone is activated for the rest of the request (the page is rendered after the view
    returns); `config.time_zones` resets it when the request ends."""

    tournament_field = "tournament"

    def tournament_zone_name(self, obj) -> str | None:
        tournament = getattr(obj, self.tournament_field, None) if obj is not None else None
        return getattr(tournament, "time_zone", None)

    def new_object_zone_name(self, request) -> str | None:
        """The zone of the tournament a new object's form names (or its query string)."""
        chosen = request.POST.get(self.tournament_field) or request.GET.get(self.tournament_field)
        return self._zone_of_tournament_id(chosen) if chosen else None

    def _zone_of_tournament_id(self, value) -> str | None:
        try:
            field = self.model._meta.get_field(self.tournament_field)  # type: ignore[attr-defined]
        except FieldDoesNotExist:  # the tournament admin itself: no one tournament to filter
            return None
        try:
            return (
                field.related_model.objects.filter(pk=value)
                .values_list("time_zone", flat=True)
                .first()
            )
        except (ValueError, ValidationError):
            return None

    def _activate(self, name: str | None) -> None:
        if name:
            timezone.activate(zone(name))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is not None:
            obj = self.get_object(request, unquote(object_id))
            self._activate(self.tournament_zone_name(obj))
        else:
            self._activate(self.new_object_zone_name(request))
        return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        one = request.GET.get(f"{self.tournament_field}__id__exact") or request.GET.get(
            f"{self.tournament_field}__pk__exact"
        )
        self._activate(self._zone_of_tournament_id(one) if one else None)
        return super().changelist_view(request, extra_context)


def zoned_when(obj, starts, ends=None, *, year=False) -> str:
    """A time in a list of several tournaments' objects: in its own tournament's zone, named
    ("Sat 12 Apr 09:00-09:10 (CEST)")."""
    with tournament_zone(obj.tournament):
        return local_when(starts, ends, year=year, zone=True)


def valid_zone_name(value) -> str | None:
    try:
        time_zone_validate(value or "")
    except ValidationError:
        return None
    return value
