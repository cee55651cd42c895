"""The admin's participant import: upload, preview, confirm (same engine as the command)."""

import csv
import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from common.models import AuditEvent
from participants.admin import importing as admin_import
from participants.models import Participant
from registrations.models import Registration
from tests.factories import TournamentFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"
IMPORT = reverse("admin:participants_participant_import")
CONFIRM = reverse("admin:participants_participant_import_confirm")
CHANGELIST = reverse("admin:participants_participant_changelist")


@pytest.fixture(autouse=True)
def staging(tmp_path, monkeypatch):
    monkeypatch.setattr(admin_import, "STAGING_DIR", tmp_path / "staging")
    return tmp_path / "staging"


@pytest.fixture
def organizer(client, django_user_model):
    user = django_user_model.objects.create_superuser("org", "org@example.org", "pw")
    client.force_login(user)
    return user


def upload(client, name, **data):
    content = (DATA / name).read_bytes()
    data["file"] = SimpleUploadedFile(name, content)
    return client.post(IMPORT, data)


def confirm(client, response):
    return client.post(CONFIRM, {"token": response.context["options"]["token"]})


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_participant_list_offers_the_import(client, organizer):
    response = client.get(CHANGELIST)

    assert f'href="{IMPORT}"' in response.content.decode()


def test_the_upload_page_explains_the_columns(client, organizer):
    response = client.get(IMPORT)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert "date of birth" in page


def test_a_clean_file_is_previewed_then_imported_on_confirmation(client, organizer, staging):
    preview = upload(client, "participants_clean.csv")

    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Would create 8, update 0; 0 unchanged, 0 rejected (would create 2 teams)." in page
    assert "Chloé Durand" in page
    assert not Participant.objects.exists()

    response = confirm(client, preview)

    assert response.status_code == 302
    assert response.url == CHANGELIST
    assert Participant.objects.count() == 8
    assert AuditEvent.objects.filter(actor="admin:org", action="participant.create").count() == 8
    assert messages_of(response) == [
        "Created 8, updated 0, unchanged 0, rejected 0 (created 2 teams) from "
        "participants_clean.csv."
    ]
    assert list(staging.iterdir()) == []  # the upload is gone once imported


def test_bad_rows_are_listed_with_their_lines_and_cannot_be_confirmed(client, organizer, staging):
    preview = upload(client, "participants_messy.csv")

    page = preview.content.decode()
    assert "Line 7: birth date “31.02.2011” is not a date" in page
    assert "Line 11: last name is empty" in page
    assert 'value="Import"' not in page
    assert list(staging.iterdir()) == []
    assert client.post(CONFIRM, {"token": preview.context["options"]["token"]}).url == IMPORT
    assert not Participant.objects.exists()


def test_skipping_bad_rows_imports_the_rest_and_offers_them_for_download(client, organizer):
    preview = upload(client, "participants_messy.csv", skip_bad_rows="on")
    assert 'value="Import"' in preview.content.decode()

    response = confirm(client, preview)

    assert Participant.objects.count() == 5
    notes = messages_of(response)
    assert notes[0].startswith("Created 5, updated 0, unchanged 0, rejected 4")
    link = reverse(
        "admin:participants_participant_import_rejects", args=[preview.context["options"]["token"]]
    )
    assert f'<a href="{link}">' in notes[1]
    download = client.get(link)
    # Named as the command names it, beside the file: participants_messy.rejected.csv
    assert download["Content-Disposition"] == (
        'attachment; filename="participants_messy.rejected.csv"'
    )
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert (rows[0][0], rows[0][-1]) == ("Line", "Error")
    assert [r[:2] for r in rows[1:]] == [
        ["7", "A-20"],
        ["9", "A-18"],
        ["11", "A-21"],
        ["14", "A-23"],
    ]


def test_another_session_cannot_download_the_rejected_rows(client, organizer, django_user_model):
    preview = upload(client, "participants_messy.csv", skip_bad_rows="on")
    confirm(client, preview)
    link = reverse(
        "admin:participants_participant_import_rejects", args=[preview.context["options"]["token"]]
    )
    other = django_user_model.objects.create_superuser("other", "o@example.org", "pw")
    client.force_login(other)

    assert client.get(link).status_code == 404


def test_a_spreadsheet_can_be_imported(client, organizer):
    preview = upload(client, "participants.xlsx", skip_bad_rows="on")
    confirm(client, preview)

    assert Participant.objects.get(external_id="9001").first_name == "Léa"


def test_a_file_that_cannot_be_read_is_a_form_error(client, organizer):
    response = upload(client, "participants_missing_column.csv")

    assert response.status_code == 200
    assert "the header has no last name column" in response.content.decode()
    assert response.context["form"].errors["file"]


def test_a_file_over_the_size_limit_is_refused(client, organizer, monkeypatch):
    monkeypatch.setattr(admin_import, "MAX_UPLOAD_BYTES", 100)

    response = upload(client, "participants_clean.csv")

    assert "manage.py import_participants" in response.context["form"].errors["file"][0]


def test_a_forged_or_stale_token_imports_nothing(client, organizer):
    upload(client, "participants_clean.csv")

    response = client.post(CONFIRM, {"token": "x" * 32})

    assert response.url == IMPORT
    assert "no longer waiting" in messages_of(response)[0]
    assert not Participant.objects.exists()


def test_a_second_confirmation_does_not_import_twice(client, organizer):
    preview = upload(client, "participants_clean.csv")
    confirm(client, preview)

    response = confirm(client, preview)

    assert response.url == IMPORT
    assert AuditEvent.objects.filter(action="participant.create").count() == 8


def test_everyone_can_be_registered_for_a_tournament(client, organizer):
    tournament = TournamentFactory(name="Chess Open", max_participants=6)

    preview = upload(client, "participants_clean.csv", tournament=str(tournament.pk))
    assert "Then register 8 in Chess Open" in preview.content.decode()
    response = confirm(client, preview)

    assert Registration.objects.filter(tournament=tournament).count() == 6
    assert "Registered 6 in Chess Open; 2 could not be (first: Line 8:" in messages_of(response)[1]


def test_staff_without_add_permission_cannot_import(client, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="change_participant"))
    client.force_login(clerk)

    assert client.get(IMPORT).status_code == 403
    assert client.post(CONFIRM, {"token": "x" * 32}).status_code == 403
    assert not Participant.objects.exists()
