"""The results sheet in the admin: one page per tournament in running order, a fixed number
of queries, judges limited to their tournaments, publishing kept for organizers."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common.models import AuditEvent
from results import services
from results.checking import Placing
from results.models import EntryCode, Prize, Result, ResultSheet
from tests.admin_client import messages_of
from tests.factories import TournamentFactory
from tests.results.conftest import entries_in

pytestmark = pytest.mark.django_db


def sheet_url(tournament):
    return reverse("admin:results_resultstournament_change", args=[tournament.pk])


def sheet_post(entries, values, **extra):
    data = {"form-TOTAL_FORMS": str(len(entries)), "form-INITIAL_FORMS": str(len(entries))}
    for i, entry in enumerate(entries):
        data[f"form-{i}-registration"] = str(entry.pk)
        for key, value in values.get(entry.pk, {}).items():
            data[f"form-{i}-{key}"] = value
    return {**data, **extra}


@pytest.fixture
def judge(db):
    user = get_user_model().objects.create_user(username="jo", password="x" * 20, is_staff=True)
    user.groups.add(Group.objects.get(name="Judges"))
    return user


def test_the_sheet_lists_entries_in_running_order(organizer_client, contest, entries):
    response = organizer_client.get(sheet_url(contest))
    assert response.status_code == 200
    assert [e.pk for e, _ in response.context["rows"]] == [e.pk for e in entries]


def test_an_organizer_enters_placings_on_one_page(organizer_client, contest, entries):
    data = sheet_post(
        entries,
        {
            entries[2].pk: {"place": "1", "score": "9.5"},
            entries[0].pk: {"place": "2", "notes": "clean"},
        },
    )
    response = organizer_client.post(sheet_url(contest), data, follow=True)
    assert "2 results saved (2 new, 0 changed, 0 removed)." in messages_of(response)
    assert Result.objects.get(registration=entries[2]).place == 1


def test_the_sheet_shows_every_problem(organizer_client, contest, entries):
    data = sheet_post(entries, {entries[0].pk: {"place": "9"}})
    response = organizer_client.post(sheet_url(contest), data)
    assert response.status_code == 200
    assert "cannot be 9th: there are only 5 entries." in response.content.decode()
    assert not Result.objects.exists()


def test_two_hundred_entries_in_a_fixed_number_of_queries(organizer_client):
    contest = TournamentFactory()
    entries = entries_in(contest, 200)
    with CaptureQueriesContext(connection) as page:
        assert organizer_client.get(sheet_url(contest)).status_code == 200
    values = {e.pk: {"place": str(i + 1)} for i, e in enumerate(entries)}
    with CaptureQueriesContext(connection) as save:
        response = organizer_client.post(sheet_url(contest), sheet_post(entries, values))
    assert response.status_code == 302
    assert Result.objects.filter(tournament=contest).count() == 200
    assert len(page) < 20, [q["sql"] for q in page.captured_queries]
    assert len(save) < 30, [q["sql"] for q in save.captured_queries]


def test_publishing_is_an_explicit_action(organizer_client, contest, entries):
    services.results_record(tournament=contest, placings=[Placing(entries[0].pk, 1)], actor="t")
    response = organizer_client.post(sheet_url(contest), {"publish": "1"}, follow=True)
    assert "Results published." in messages_of(response)
    assert ResultSheet.objects.get(tournament=contest).is_published


def test_a_judge_enters_results_only_for_assigned_tournaments(client, judge, contest, entries):
    other = TournamentFactory()
    services.judge_assign(tournament=contest, judge=judge, actor="olga")
    client.force_login(judge)
    listing = client.get(reverse("admin:results_resultstournament_changelist"))
    assert contest.name in listing.content.decode()
    assert other.name not in listing.content.decode()
    assert client.get(sheet_url(other)).status_code == 302  # "does not exist" redirect
    response = client.post(sheet_url(contest), sheet_post(entries, {entries[0].pk: {"place": "1"}}))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="result.record", actor="admin:jo").exists()


def test_a_judge_cannot_publish_or_touch_anything_else(client, judge, contest, entries):
    services.judge_assign(tournament=contest, judge=judge, actor="olga")
    services.results_record(tournament=contest, placings=[Placing(entries[0].pk, 1)], actor="t")
    client.force_login(judge)
    assert client.post(sheet_url(contest), {"publish": "1"}).status_code == 403
    assert not ResultSheet.objects.get(tournament=contest).is_published
    for name in ["tournaments_tournament", "registrations_registration", "results_prize"]:
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 403


def test_an_organizer_awards_a_prize_by_hand_with_a_reason(organizer_client, contest, entries):
    prize = Prize.objects.create(tournament=contest, name="Gold", place=1)
    url = reverse("admin:results_prize_award", args=[prize.pk])
    response = organizer_client.post(url, {"registration": str(entries[3].pk), "reason": ""})
    assert "This field is required." in response.content.decode()
    response = organizer_client.post(
        url, {"registration": str(entries[3].pk), "reason": "Judges' special mention"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="prize.award")
    assert event.payload["reason"] == "Judges' special mention" and event.payload["override"]


def test_the_sheet_downloads_and_comes_back_through_a_preview(organizer_client, contest, entries):
    import csv
    import io

    response = organizer_client.post(reverse("admin:results_packet", args=[contest.pk, "csv"]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    rows[1]["place"] = "1"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    upload = io.BytesIO(out.getvalue().encode())
    upload.name = "filled.csv"
    url = reverse("admin:results_import", args=[contest.pk])

    preview = organizer_client.post(url, {"file": upload})
    assert [c[:2] for c in preview.context["changes"]] == [("Would record", "P1 Last1")]
    assert not Result.objects.exists()

    response = organizer_client.post(url, {"confirm": "1"}, follow=True)
    assert "1 result imported (1 new, 0 changed, 0 removed)." in messages_of(response)
    assert Result.objects.get().registration_id == entries[1].pk


def test_a_bad_upload_shows_its_lines_and_cannot_be_confirmed(organizer_client, contest, entries):
    import io

    upload = io.BytesIO(f"tournament,code,place\n{contest.slug},NOPE-0000,1\n".encode())
    upload.name = "bad.csv"
    url = reverse("admin:results_import", args=[contest.pk])
    response = organizer_client.post(url, {"file": upload})
    assert response.context["errors"] == ["Line 2: no entry has the code “NOPE-0000”."]
    response = organizer_client.post(url, {"confirm": "1"}, follow=True)
    assert "No import is waiting" in " ".join(messages_of(response))


def test_a_judge_cannot_download_another_tournaments_sheet(client, judge, contest, entries):
    client.force_login(judge)
    response = client.post(reverse("admin:results_packet", args=[contest.pk, "xlsx"]))
    assert response.status_code == 403
    response = client.get(reverse("admin:results_judge_sheet", args=[contest.pk]))
    assert response.status_code == 403


def test_downloading_the_sheet_is_a_post_and_a_get_writes_nothing(
    organizer_client, contest, entries
):
    url = reverse("admin:results_packet", args=[contest.pk, "csv"])
    assert organizer_client.get(url).status_code == 405
    sheet = organizer_client.get(
        reverse("admin:results_resultstournament_change", args=[contest.pk])
    )
    assert f'action="{url}"' in sheet.content.decode()
    assert not EntryCode.objects.exists()
    organizer_client.post(url)
    assert EntryCode.objects.count() == len(entries)


def test_the_printable_sheet_lists_codes_in_running_order(organizer_client, contest, entries):
    print_url = reverse("admin:results_packet", args=[contest.pk, "print"])
    sheet_url = reverse("admin:results_judge_sheet", args=[contest.pk])
    before = organizer_client.get(sheet_url).content.decode()
    assert not EntryCode.objects.exists()  # looking never makes codes
    assert entries[0].entrant_name in before
    response = organizer_client.post(print_url)
    assert response.status_code == 302 and response["Location"] == sheet_url
    page = organizer_client.get(sheet_url).content.decode()
    codes = dict(EntryCode.objects.values_list("registration_id", "code"))
    positions = [page.index(codes[e.pk]) for e in entries]
    assert positions == sorted(positions)
    assert "<script>" not in page and "style=" not in page  # the CSP allows files only


def test_the_tournament_page_links_to_its_results_sheet(organizer_client, contest):
    response = organizer_client.get(
        reverse("admin:tournaments_tournament_change", args=[contest.pk])
    )
    assert sheet_url(contest) in response.content.decode()


def test_an_organizer_picks_a_judge_by_name_among_the_judges(organizer_client, judge, contest):
    judge.first_name, judge.last_name = "Jo", "March"
    judge.save()
    get_user_model().objects.create_user(username="not-a-judge", is_staff=True)
    url = reverse("admin:results_judgeassignment_add")

    page = organizer_client.get(url)

    assert page.status_code == 200
    choices = [label for _value, label in page.context["adminform"].form.fields["judge"].choices]
    assert choices == ["---------", "Jo March (jo)"]
    assert "/admin/auth/user/" not in page.content.decode()  # no lookup organizers may not use
    response = organizer_client.post(url, {"judge": judge.pk, "tournament": contest.pk})
    assert response.status_code == 302
    assert contest.judge_assignments.get().judge == judge


def test_the_import_page_downloads_the_sheet_it_asks_for(organizer_client, contest, entries):
    page = organizer_client.get(reverse("admin:results_import", args=[contest.pk]))
    action = reverse("admin:results_packet", args=[contest.pk, "csv"])
    assert f'<form method="post" action="{action}">' in page.content.decode()

    response = organizer_client.post(action)

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('-judges.csv"')
