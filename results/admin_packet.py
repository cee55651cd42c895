"""The judges' packet in the results back office: download the sheet (CSV or .xlsx), whole
or one file per day and room (each alone, or all in a .zip), and upload it filled in: upload
→ preview (a dry run of `results.importing`) → confirm.

Smaller than the participant import's staging: a results sheet is a few hundred rows, so
the checked placings wait in the session, not the file. Confirming records them through
`results_record`, which checks them again against the results as they are by then."""

import io
from decimal import Decimal
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from common.admin.base import REFUSALS, admin_actor, plural
from common.tabular import ImportFileError, Table
from common.times import tournament_zone_activate
from results import selectors, services
from results.checking import Placing
from results.importing import ResultsImportInvalid, results_import
from results.packet import (
    packet_file_name,
    packet_section_file,
    packet_sections,
    packet_sections_export,
    packet_write_csv,
    packet_write_xlsx,
    packet_write_zip,
)

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # a sheet of thousands of entries is far smaller
SESSION_KEY = "results_import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}
ALL_ROOMS = "all"  # the section name of the .zip of every room's file


class ResultsUploadForm(forms.Form):
    file = forms.FileField(
        label="Filled-in judges' sheet",
        help_text="The downloaded sheet (CSV or .xlsx) with places, scores, penalties, notes.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("This file is larger than 2 MB: is it the right one?")
        return upload


def _stored(placing: Placing) -> dict:
    return {
        "id": str(placing.registration_id),
        "place": placing.place,
        "score": None if placing.score is None else str(placing.score),
        "penalties": placing.penalties,
        "notes": placing.notes,
    }


def _placing(stored: dict) -> Placing:
    score = stored["score"]
    return Placing(
        UUID(stored["id"]),
        place=stored["place"],
        score=None if score is None else Decimal(score),
        penalties=stored["penalties"],
        notes=stored["notes"],
    )


class JudgePacketAdminMixin:
    """For the tournament results admin: its change view is the results sheet."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/packet.<str:kind>", view(self.packet_view), name="results_packet"
            ),
            path(
                "<path:object_id>/packet/<str:section>.<str:kind>",
                view(self.packet_room_view),
                name="results_packet_room",
            ),
            path(
                "<path:object_id>/judge-sheet/",
                view(self.judge_sheet_view),
                name="results_judge_sheet",
            ),
            path("<path:object_id>/import/", view(self.import_view), name="results_import"),
            *super().get_urls(),
        ]

    def _tournament_to_judge(self, request, object_id):
        tournament = self.get_object(request, object_id)  # judges: only theirs
        if tournament is None or not self.has_change_permission(request, tournament):
            raise PermissionDenied
        tournament_zone_activate(tournament)
        return tournament

    def packet_view(self, request, object_id, kind):
        """The sheet as a file, or (`print`) on to the printable sheet. A POST: exporting
        gives entries their codes, and a GET (a prefetch, a crawler) must not write."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        tournament = self._tournament_to_judge(request, object_id)
        if kind == "print":
            services.entry_codes_assign(tournament=tournament, actor=admin_actor(request))
            return redirect("admin:results_judge_sheet", tournament.pk)
        if kind not in CONTENT_TYPES:
            raise Http404("No such file type.")
        response = HttpResponse(content_type=CONTENT_TYPES[kind])
        response["Content-Disposition"] = f'attachment; filename="{tournament.slug}-judges.{kind}"'
        write = packet_write_csv if kind == "csv" else packet_write_xlsx
        if kind == "csv":
            response.write("\ufeff")  # Excel reads accents right only with a byte-order mark
        write(tournament=tournament, out=response, actor=admin_actor(request))
        return response

    def packet_room_view(self, request, object_id, section, kind):
        """One day and room's sheet as a file of its own, or (`all`) every room's file in one
        .zip; each imports back alone. A POST, as for the whole sheet: exporting gives
        entries their codes."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        tournament = self._tournament_to_judge(request, object_id)
        if kind not in CONTENT_TYPES:
            raise Http404("No such file type.")
        actor = admin_actor(request)
        sections = packet_sections_export(tournament=tournament, actor=actor)
        if section == ALL_ROOMS:
            if not sections:
                return self._no_sheet(request, tournament, "No entries to write yet.")
            archive = io.BytesIO()
            packet_write_zip(
                tournament=tournament, out=archive, kind=kind, sections=sections, actor=actor
            )
            response = HttpResponse(archive.getvalue(), content_type="application/zip")
            name = f"{tournament.slug}-judges-per-room-{kind}.zip"
        else:
            chosen = next((s for s in sections if s.key == section), None)
            if chosen is None:  # the schedule or the entries changed since the page was shown
                return self._no_sheet(
                    request, tournament, "That room has no entries that day any more."
                )
            content = packet_section_file(
                tournament=tournament, section=chosen, kind=kind, actor=actor
            )
            response = HttpResponse(content, content_type=CONTENT_TYPES[kind])
            name = packet_file_name(tournament=tournament, section=chosen, kind=kind)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def _no_sheet(self, request, tournament, message):
        self.message_user(request, message, messages.WARNING)
        return redirect("admin:results_resultstournament_change", tournament.pk)

    def packet_rooms(self, tournament):
        """What the results page offers per day and room: the sections (read only: no codes
        are given until a download), and whether the tournament has any times at all."""
        return {
            "packet_sections": packet_sections(tournament=tournament, codes={}),
            "has_times": selectors.tournament_has_times(tournament=tournament),
            "all_rooms": ALL_ROOMS,
        }

    def judge_sheet_view(self, request, object_id):
        """The judges' sheet to print: a page per day and room, in running order, with codes
        and blank result columns. Reads only: an entry added since the last export shows no
        code until the next."""
        tournament = self._tournament_to_judge(request, object_id)
        codes = selectors.entry_codes_get(tournament=tournament)
        context = {
            "tournament": tournament,
            "sections": packet_sections(tournament=tournament, codes=codes),
            "printed_at": timezone.now(),
            "site_header": self.admin_site.site_header,
            "sheet_url": reverse("admin:results_resultstournament_change", args=[tournament.pk]),
        }
        return TemplateResponse(request, "admin/results/judge_sheet.html", context)

    def import_view(self, request, object_id):
        tournament = self._tournament_to_judge(request, object_id)
        sheet_url = reverse("admin:results_resultstournament_change", args=[tournament.pk])
        if request.method == "POST" and "confirm" in request.POST:
            return self._confirm(request, tournament, sheet_url)
        form = ResultsUploadForm(request.POST or None, request.FILES or None)
        context = {"form": form, "result": None, "changes": [], "errors": []}
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                table = Table(io.BytesIO(upload.read()), name=upload.name)
                result = results_import(
                    table=table, tournament=tournament, actor=admin_actor(request), dry_run=True
                )
            except ResultsImportInvalid as exc:
                context.update(result=exc.result, errors=exc.result.errors)
            except ImportFileError as exc:
                form.add_error("file", exc.message)
            else:
                request.session[SESSION_KEY] = {
                    "tournament": str(tournament.pk),
                    "placings": [_stored(p) for p in result.placings],
                }
                context.update(result=result, changes=list(result.changes()))
        context.update(
            self.admin_site.each_context(request),
            title=f"Import results · {tournament.name}",
            opts=self.opts,
            tournament=tournament,
            sheet_url=sheet_url,
        )
        return TemplateResponse(request, "admin/results/results_import.html", context)

    def _confirm(self, request, tournament, sheet_url):
        waiting = request.session.pop(SESSION_KEY, None)
        if not waiting or waiting["tournament"] != str(tournament.pk):
            self.message_user(request, "No import is waiting: upload the file again.", "error")
            return redirect(request.path)
        try:
            outcome = services.results_record(
                tournament=tournament,
                placings=[_placing(p) for p in waiting["placings"]],
                actor=admin_actor(request),
            )
        except REFUSALS as exc:  # the results changed since the preview
            self.message_user(request, exc.message, messages.ERROR)
            return redirect(request.path)
        self.message_user(
            request,
            f"{plural(outcome.total, 'result')} imported ({outcome.created} new, "
            f"{outcome.changed} changed, {outcome.removed} removed).",
            messages.SUCCESS,
        )
        return redirect(sheet_url)
