"""The results back office: one page per tournament to enter placings in running order
(judges see only the tournaments they are assigned to), publishing for organizers, prizes
with hand-given awards, and judges' assignments. Every change goes through
`results.services`."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from common.admin.base import REFUSALS, LineupMedia, admin_actor, plural
from common.times import tournament_zone_activate
from results import selectors, services
from results.admin_packet import JudgePacketAdminMixin
from results.errors import ResultsInvalid
from results.forms import AwardForm, PlacingFormSet
from results.models import (
    JudgeAssignment,
    Prize,
    PrizeAward,
    ResultsTournament,
    Series,
    SeriesTournament,
)

# The staff group whose members may be assigned to judge (made by a data migration).
JUDGES = "Judges"


def _may_publish(request):
    return request.user.has_perm(selectors.PUBLISH_PERMISSION)


@admin.register(ResultsTournament)
class ResultsTournamentAdmin(JudgePacketAdminMixin, admin.ModelAdmin):
    list_display = ["name", "starts_on", "sheet_status", "enter"]
    search_fields = ["name", "slug"]
    ordering = ["-starts_on", "name"]
    Media = LineupMedia

    def get_queryset(self, request):
        queryset = super().get_queryset(request).not_deleted().select_related("result_sheet")
        if not _may_publish(request):  # a judge: only the tournaments assigned to them
            queryset = queryset.filter(judge_assignments__judge=request.user)
        return queryset

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="results")
    def sheet_status(self, tournament):
        sheet = getattr(tournament, "result_sheet", None)
        return sheet.get_status_display() if sheet else "Not started"

    @admin.display(description="")
    def enter(self, tournament):
        url = reverse("admin:results_resultstournament_change", args=[tournament.pk])
        return format_html('<a href="{}">Enter results</a>', url)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        tournament = self.get_object(request, object_id)
        if tournament is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, tournament):
            raise PermissionDenied
        tournament_zone_activate(tournament)
        if request.method == "POST" and "publish" in request.POST:
            return self._publish(request, tournament)
        entries = list(selectors.results_sheet_entries(tournament=tournament))
        initial = [self._initial(e) for e in entries]
        formset = PlacingFormSet(
            request.POST if request.method == "POST" else None, initial=initial
        )
        problems = []
        if request.method == "POST" and formset.is_valid():
            placings = [f.placing() for f in formset if f.has_changed()]
            try:
                outcome = services.results_record(
                    tournament=tournament, placings=placings, actor=admin_actor(request)
                )
            except ResultsInvalid as exc:
                problems = exc.problems
            else:
                self.message_user(
                    request,
                    f"{plural(outcome.total, 'result')} saved "
                    f"({outcome.created} new, {outcome.changed} changed, "
                    f"{outcome.removed} removed).",
                    messages.SUCCESS,
                )
                return redirect(request.path)
        sheet = selectors.results_sheet_get(tournament=tournament)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Results · {tournament.name}",
            "opts": self.opts,
            "tournament": tournament,
            "sheet": sheet,
            "rows": list(zip(entries, formset, strict=True)),
            "formset": formset,
            "problems": problems,
            "may_publish": _may_publish(request),
            "media": self.media,
            **self.packet_rooms(tournament),
        }
        return TemplateResponse(request, "admin/results/results_sheet.html", context)

    @staticmethod
    def _initial(entry):
        result = getattr(entry, "result", None)
        values = {"registration": entry.pk}
        if result is not None:
            values.update(
                place=result.place,
                score=result.score,
                penalties=result.penalties,
                notes=result.notes,
            )
        return values

    def _publish(self, request, tournament):
        if not _may_publish(request):
            raise PermissionDenied
        try:
            done = services.results_publish(tournament=tournament, actor=admin_actor(request))
        except REFUSALS as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(
                request,
                "Results published." if done else "The results were already published.",
                messages.SUCCESS if done else messages.INFO,
            )
        return redirect(request.path)


@admin.register(Prize)
class PrizeAdmin(admin.ModelAdmin):
    list_display = ["name", "tournament", "place", "value"]
    list_filter = ["tournament"]
    list_select_related = ["tournament"]
    search_fields = ["name", "tournament__name"]
    autocomplete_fields = ["tournament"]
    actions = ["award"]

    @admin.action(description="Award by hand (with a reason)…", permissions=["change"])
    def award(self, request, queryset):
        prize = queryset.select_related("tournament").first()
        if prize is None:
            return None
        url = reverse("admin:results_prize_award", args=[prize.pk])
        return redirect(url)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/award/",
                self.admin_site.admin_view(self.award_view),
                name="results_prize_award",
            ),
            *super().get_urls(),
        ]

    def award_view(self, request, object_id):
        prize = self.get_object(request, object_id)
        if prize is None or not self.has_change_permission(request, prize):
            raise PermissionDenied
        tournament_zone_activate(prize.tournament)
        entries = selectors.results_sheet_entries(tournament=prize.tournament)
        form = AwardForm(request.POST or None, entries=entries)
        if request.method == "POST" and form.is_valid():
            try:
                services.prize_award(
                    prize=prize,
                    registration_id=form.cleaned_data["registration"],
                    reason=form.cleaned_data["reason"],
                    actor=admin_actor(request),
                )
            except REFUSALS as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"{prize.name} awarded.", messages.SUCCESS)
                return redirect("admin:results_prize_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Award {prize.name}",
            "opts": self.opts,
            "form": form,
            "prize": prize,
        }
        return TemplateResponse(request, "admin/results/prize_award.html", context)


@admin.register(PrizeAward)
class PrizeAwardAdmin(admin.ModelAdmin):
    list_display = ["prize", "registration", "reason", "created_at"]
    list_select_related = ["prize", "registration"]
    readonly_fields = ["prize", "registration", "reason"]

    def has_add_permission(self, request):
        return False  # through the prize's "Award by hand" page, which audits the reason

    def delete_model(self, request, obj):
        services.prize_award_withdraw(award=obj, reason="withdrawn", actor=admin_actor(request))

    def delete_queryset(self, request, queryset):
        for award in queryset:
            self.delete_model(request, award)


@admin.register(JudgeAssignment)
class JudgeAssignmentAdmin(admin.ModelAdmin):
    list_display = ["judge", "tournament"]
    list_select_related = ["judge", "tournament"]
    autocomplete_fields = ["tournament"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Organizers cannot browse the users (a raw id lookup was a 403 to them): they choose
        # among the active members of the Judges group, by name.
        if db_field.name == "judge":
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(groups__name=JUDGES, is_active=True, is_staff=True)
                .order_by("first_name", "last_name", "username")
            )
            kwargs["help_text"] = (
                f"A member of the {JUDGES} group. Someone missing from the list is added to "
                "the group by whoever manages the users."
            )
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            field.label_from_instance = _judge_label
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        services.judge_assign(
            tournament=obj.tournament, judge=obj.judge, actor=admin_actor(request)
        )
        obj.pk = JudgeAssignment.objects.get(tournament=obj.tournament, judge=obj.judge).pk

    def delete_model(self, request, obj):
        services.judge_unassign(
            tournament=obj.tournament, judge=obj.judge, actor=admin_actor(request)
        )

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            self.delete_model(request, assignment)


def _judge_label(user) -> str:
    name = user.get_full_name()
    return f"{name} ({user.username})" if name else user.username


class SeriesTournamentInline(admin.TabularInline):
    model = SeriesTournament
    autocomplete_fields = ["tournament"]
    extra = 1


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    """Grouping tournaments changes no result, only how leaderboards add them up."""

    list_display = ["name", "slug", "best_per_school", "public_page"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]
    inlines = [SeriesTournamentInline]

    @admin.display(description="")
    def public_page(self, series):
        url = reverse("results:leaderboard", args=[series.slug])
        return format_html('<a href="{}">Leaderboard</a>', url)
