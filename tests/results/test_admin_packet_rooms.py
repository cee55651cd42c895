"""The judges' sheets per day and room in the admin: a file per room (CSV or .xlsx) and all
rooms in a .zip, named as the command names them, each importable on its own; the same
permissions as the whole sheet, and an empty state before the schedule exists."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from common.times import local_date
from registrations import services as engine
from results.models import EntryCode, Result
from tests.admin_client import messages_of
from tests.factories import LocationFactory, ParticipantFactory, SlotFactory, TournamentFactory

pytestmark = pytest.mark.django_db


def sheet_url(tournament):
    return reverse("admin:results_resultstournament_change", args=[tournament.pk])


def room_url(tournament, section, kind):
    return reverse("admin:results_packet_room", args=[tournament.pk, section, kind])


@pytest.fixture
def two_rooms(contest):
    """Hall: Hank at 9:00, Hal at 9:20; Studio: Sam at 9:00; all the same day."""
    hall, studio = LocationFactory(name="Hall"), LocationFactory(name="Studio")
    nine = SlotFactory.build().starts_at
    for room, starts, name in [
        (hall, nine + timedelta(minutes=20), "Hal"),
        (studio, nine, "Sam"),
        (hall, nine, "Hank"),
    ]:
        slot = SlotFactory(
            time_block__tournament=contest, time_block__location=room, starts_at=starts
        )
        engine.registration_create(
            tournament=contest,
            slot_id=slot.pk,
            participant=ParticipantFactory(first_name=name, last_name="X"),
            actor="t",
        )
    return local_date(nine).isoformat()


def sections_of(client, tournament):
    return client.get(sheet_url(tournament)).context["packet_sections"]


def rows_of(content: bytes):
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_page_offers_each_day_and_room_in_csv_and_excel(organizer_client, contest, two_rooms):
    page = organizer_client.get(sheet_url(contest))
    sections = page.context["packet_sections"]
    assert [(s.room, len(s.rows)) for s in sections] == [
        ("Hall (Main Hall)", 2),
        ("Studio (Main Hall)", 1),
    ]
    html = page.content.decode()
    for section in sections:
        for kind in ("csv", "xlsx"):
            assert f'formaction="{room_url(contest, section.key, kind)}"' in html
    assert f'action="{room_url(contest, "all", "csv")}"' in html
    assert not EntryCode.objects.exists()  # showing the page gives no codes


def test_a_room_file_holds_that_room_only_and_is_named_like_the_commands(
    organizer_client, contest, two_rooms
):
    hall = sections_of(organizer_client, contest)[0]
    response = organizer_client.post(room_url(contest, hall.key, "csv"))
    assert response["Content-Disposition"] == (
        f'attachment; filename="{contest.slug}-{two_rooms}-hall-main-hall.csv"'
    )
    rows = rows_of(response.content)
    assert [(r["entrant"], r["#"]) for r in rows] == [("Hank X", "1"), ("Hal X", "2")]
    assert all(r["code"] for r in rows)  # exporting gave them codes


def test_all_rooms_come_as_one_zip_of_files(organizer_client, contest, two_rooms):
    from openpyxl import load_workbook

    response = organizer_client.post(room_url(contest, "all", "xlsx"))
    assert response["Content-Type"] == "application/zip"
    assert f"{contest.slug}-judges-per-room-xlsx.zip" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == [
        f"{contest.slug}-{two_rooms}-hall-main-hall.xlsx",
        f"{contest.slug}-{two_rooms}-studio-main-hall.xlsx",
    ]
    studio = load_workbook(io.BytesIO(archive.read(archive.namelist()[1]))).active
    assert [c.value for c in studio[2]][6] == "Sam X" and studio.max_row == 2
    assert studio.protection.sheet


def test_one_room_file_comes_back_through_the_preview(organizer_client, contest, two_rooms):
    archive = zipfile.ZipFile(
        io.BytesIO(organizer_client.post(room_url(contest, "all", "csv")).content)
    )
    studio = rows_of(archive.read(archive.namelist()[1]))
    studio[0]["place"], studio[0]["score"] = "1", "9.5"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(studio[0]))
    writer.writeheader()
    writer.writerows(studio)
    upload = io.BytesIO(out.getvalue().encode())
    upload.name = archive.namelist()[1]
    url = reverse("admin:results_import", args=[contest.pk])

    preview = organizer_client.post(url, {"file": upload})
    assert [c[:2] for c in preview.context["changes"]] == [("Would record", "Sam X")]
    response = organizer_client.post(url, {"confirm": "1"}, follow=True)
    assert "1 result imported (1 new, 0 changed, 0 removed)." in messages_of(response)
    result = Result.objects.get()
    assert result.registration.entrant_name == "Sam X" and result.place == 1


def test_room_files_are_posts_for_judges_of_the_tournament_only(
    client, organizer_client, contest, two_rooms
):
    hall = sections_of(organizer_client, contest)[0]
    url = room_url(contest, hall.key, "csv")
    assert organizer_client.get(url).status_code == 405
    judge = get_user_model().objects.create_user(username="jo", password="x" * 20, is_staff=True)
    judge.groups.add(Group.objects.get(name="Judges"))
    client.force_login(judge)
    assert client.post(url).status_code == 403
    assert client.post(room_url(contest, "all", "csv")).status_code == 403
    contest.judge_assignments.create(judge=judge)
    assert client.post(url).status_code == 200


def test_a_room_no_longer_there_and_an_unknown_kind(organizer_client, contest, two_rooms):
    response = organizer_client.post(room_url(contest, "2000-01-01_nowhere", "csv"), follow=True)
    assert "That room has no entries that day any more." in messages_of(response)
    hall = sections_of(organizer_client, contest)[0]
    assert organizer_client.post(room_url(contest, hall.key, "pdf")).status_code == 404
    whole_sheet = reverse("admin:results_packet", args=[contest.pk, "pdf"])
    assert organizer_client.post(whole_sheet).status_code == 404


def test_without_times_the_page_says_so(organizer_client):
    bare = TournamentFactory()
    page = organizer_client.get(sheet_url(bare)).content.decode()
    assert "This tournament has no times yet" in page
    response = organizer_client.post(room_url(bare, "all", "csv"), follow=True)
    assert "No entries to write yet." in messages_of(response)
