"""The participant import in the admin: upload, preview, confirm.

The same code path as `manage.py import_participants` (participants/importing/, and
registrations/importing.py when everyone is also registered in a tournament): the
preview is a dry run of the uploaded file, the confirmation runs the real import on the
same file. Between the two steps the upload waits in a private staging directory under a
random token that only the uploader's session knows; it is deleted once imported (and
abandoned ones after a day).

Use it by putting `ParticipantImportAdminMixin` before `admin.ModelAdmin` in the bases of
the Participant admin. It adds an "Import participants" button to the change list through
its `change_list_template`; an admin class that sets its own change-list template should
extend "admin/participants/participant/import_change_list.html".
"""

import os
import re
import secrets
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from common.tabular import ImportFileError, Table
from common.text import plural
from participants.importing import COLUMNS, ImportRowsInvalid, participant_import
from registrations.importing import participant_import_into_tournament
from tournaments.models import Tournament

# Bigger files take longer than a web request should: the command has no limit.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Under var/ (not the shared /tmp); several app servers need it on shared storage.
STAGING_DIR = Path(settings.LINEUP_IMPORT_STAGING_DIR)
STAGING_MAX_AGE_SECONDS = 24 * 3600
SESSION_KEY = "participant_import"
SHOWN_AT_MOST = 100
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class ParticipantImportForm(forms.Form):
    file = forms.FileField(
        label="CSV or Excel file",
        help_text="CSV (UTF-8, comma or semicolon) or .xlsx, at most 5 MB. For bigger files "
        "use manage.py import_participants.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    skip_bad_rows = forms.BooleanField(
        required=False,
        label="Import the good rows even if some are bad",
        help_text="The bad rows are skipped; you can download them with their errors.",
    )
    tournament = forms.ModelChoiceField(
        queryset=Tournament.objects.not_deleted().order_by("name"),
        required=False,
        help_text="Also register everyone imported in this tournament (its sign-up window, "
        "capacity and rules apply).",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                "This file is larger than 5 MB. Import it with manage.py import_participants."
            )
        if upload.size == 0:
            raise forms.ValidationError("This file is empty.")
        return upload


def _staging_path(token, suffix):
    if not _TOKEN.match(token or ""):
        raise Http404("No such import.")
    return STAGING_DIR / f"{token}{suffix}"


def _stage(upload) -> str:
    """Keep the upload under a fresh token; clear out abandoned uploads while at it."""
    STAGING_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    cutoff = time.time() - STAGING_MAX_AGE_SECONDS
    for old in STAGING_DIR.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # another worker got there first
    token = secrets.token_urlsafe(24)
    fd = os.open(_staging_path(token, ".upload"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        for chunk in upload.chunks():
            f.write(chunk)
    return token


class ParticipantImportAdminMixin:
    change_list_template = "admin/participants/participant/import_change_list.html"

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name=f"{prefix}_import"),
            path(
                "import/confirm/",
                view(self.import_confirm_view),
                name=f"{prefix}_import_confirm",
            ),
            path(
                "import/rejected/<str:token>/",
                view(self.import_rejects_view),
                name=f"{prefix}_import_rejects",
            ),
            *super().get_urls(),
        ]

    # -- permissions ---------------------------------------------------------------------------

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def _check_import_permission(self, request, tournament=None):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if tournament is not None and not request.user.has_perm("registrations.add_registration"):
            raise PermissionDenied

    def _url(self, name, *args):
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}",
            args=args,
            current_app=self.admin_site.name,
        )

    def _render(self, request, template, context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import participants",
            "columns": COLUMNS,
            "changelist_url": self._url("changelist"),
            **context,
        }
        return TemplateResponse(request, f"admin/participants/participant/{template}", context)

    # -- step 1: upload, step 2: preview -------------------------------------------------------

    def import_view(self, request):
        self._check_import_permission(request)
        form = ParticipantImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            tournament = form.cleaned_data["tournament"]
            self._check_import_permission(request, tournament)
            token = _stage(form.cleaned_data["file"])
            name = Path(form.cleaned_data["file"].name).name
            options = {
                "token": token,
                "name": name,
                "skip_bad_rows": form.cleaned_data["skip_bad_rows"],
                "tournament": str(tournament.pk) if tournament else None,
            }
            result = None
            try:
                result = self._run(request, options, dry_run=True)
            except ImportRowsInvalid as exc:  # shown, but it cannot be confirmed
                result = exc.result
            except ImportFileError as exc:
                form.add_error("file", exc.message)
            if result is not None and (not result.error_count or options["skip_bad_rows"]):
                request.session[SESSION_KEY] = options
            else:
                _staging_path(token, ".upload").unlink(missing_ok=True)
            if not form.errors:
                return self._render(
                    request,
                    "import_preview.html",
                    {
                        "result": result,
                        "options": options,
                        "tournament": tournament,
                        "can_confirm": SESSION_KEY in request.session
                        and request.session[SESSION_KEY]["token"] == token,
                        "changes": [c for c in result.changes if c.action != "unchanged"][
                            :SHOWN_AT_MOST
                        ],
                        "errors": result.errors[:SHOWN_AT_MOST],
                        "shown_at_most": SHOWN_AT_MOST,
                        "confirm_url": self._url("import_confirm"),
                        "upload_url": self._url("import"),
                    },
                )
        return self._render(request, "import_form.html", {"form": form})

    # -- step 3: confirm -----------------------------------------------------------------------

    def import_confirm_view(self, request):
        self._check_import_permission(request)
        if request.method != "POST":
            return HttpResponseRedirect(self._url("import"))
        options = request.session.get(SESSION_KEY)
        if not options or request.POST.get("token") != options["token"]:
            self.message_user(
                request,
                "That import is no longer waiting for confirmation. Upload the file again.",
                messages.ERROR,
            )
            return HttpResponseRedirect(self._url("import"))
        tournament = Tournament.objects.filter(pk=options["tournament"]).first()
        self._check_import_permission(request, tournament)
        del request.session[SESSION_KEY]
        upload = _staging_path(options["token"], ".upload")
        if not upload.exists():
            self.message_user(
                request, "The uploaded file has expired. Upload it again.", messages.ERROR
            )
            return HttpResponseRedirect(self._url("import"))
        try:
            result = self._run(request, options, dry_run=False)
        except ImportRowsInvalid as exc:  # the list changed since the preview
            self.message_user(
                request,
                f"{exc.message} First problem: {exc.result.errors[0]}",
                messages.ERROR,
            )
            return HttpResponseRedirect(self._url("import"))
        except ImportFileError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(self._url("import"))
        finally:
            upload.unlink(missing_ok=True)
        self._report(request, result, tournament, options)
        return HttpResponseRedirect(self._url("changelist"))

    def _run(self, request, options, *, dry_run):
        tournament = None
        if options["tournament"]:
            tournament = Tournament.objects.not_deleted().filter(pk=options["tournament"]).first()
            if tournament is None:
                raise ImportFileError("The chosen tournament no longer exists.")
        with open(_staging_path(options["token"], ".upload"), "rb") as f:
            arguments = {
                "table": Table(f, name=options["name"]),
                "actor": f"admin:{request.user.get_username()}",
                "dry_run": dry_run,
                "skip_bad_rows": options["skip_bad_rows"],
                "reject_path": _staging_path(options["token"], ".rejected.csv"),
            }
            if tournament is None:
                return participant_import(**arguments)
            return participant_import_into_tournament(tournament=tournament, **arguments)

    def _report(self, request, result, tournament, options):
        refused = tournament is not None and result.not_registered
        level = messages.WARNING if result.rejected or refused else messages.SUCCESS
        self.message_user(request, f"{result.summary()[:-1]} from {options['name']}.", level)
        if tournament is not None:
            text = f"Registered {result.registered} in {tournament.name}"
            if result.already_registered:
                text += f"; {result.already_registered} already were"
            if result.not_registered:
                first = result.registration_errors[0]
                text += f"; {result.not_registered} could not be (first: {first})"
            self.message_user(request, text + ".", level)
        if result.reject_path:
            # The reject file stays for the session that made it, to download.
            request.session[f"{SESSION_KEY}_rejects"] = options["token"]
            request.session[f"{SESSION_KEY}_rejects_name"] = options["name"]
            self.message_user(
                request,
                format_html(
                    '{} skipped. <a href="{}">Download them with their line numbers and '
                    "errors</a> (CSV), fix them and import that file.",
                    f"{plural(result.rejected, 'row was', 'rows were')}",
                    self._url("import_rejects", options["token"]),
                ),
                messages.WARNING,
            )

    def import_rejects_view(self, request, token):
        self._check_import_permission(request)
        if request.session.get(f"{SESSION_KEY}_rejects") != token:
            raise Http404("No such file.")
        rejects = _staging_path(token, ".rejected.csv")
        if not rejects.exists():
            raise Http404("This file has expired.")
        return FileResponse(
            open(rejects, "rb"),  # FileResponse closes it
            as_attachment=True,
            # Named as the command names it: kids.csv → kids.rejected.csv
            filename=f"{Path(request.session.get(f'{SESSION_KEY}_rejects_name') or 'rows').stem}"
            ".rejected.csv",
            content_type="text/csv; charset=utf-8",
        )
