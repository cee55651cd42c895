"""The judges' round trip: export the sheet, fill it in, import it, see the standings."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from common.models import AuditEvent
from results import selectors
from results.models import EntryCode, Result
from tests.factories import TournamentFactory
from tests.results.conftest import entries_in

pytestmark = pytest.mark.django_db
DATA = "tests/data"


@pytest.fixture
def round_trip(db):
    rules = {"points": {"first": 10, "second": 7, "third": 5}}
    tournament = TournamentFactory(slug="round-trip", rules=rules)
    entries = entries_in(tournament, 4)
    for n, entry in enumerate(entries, 1):  # the codes tests/data/results_*.csv name
        EntryCode.objects.create(registration=entry, code=f"RTAA-000{n}")
    return tournament, entries


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_packet_lists_entries_in_running_order_with_codes(contest, entries, tmp_path):
    path = tmp_path / "packet.csv"
    out, _ = run("export_judge_packet", contest.slug, "-o", str(path))
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["entrant"] for r in rows] == [e.entrant_name for e in entries]
    codes = [r["code"] for r in rows]
    assert all(len(c) == 9 and c[4] == "-" for c in codes) and len(set(codes)) == 5
    assert not any(c.replace("-", "") in e.reference for c, e in zip(codes, entries, strict=True))
    assert {r["place"] + r["score"] + r["penalties"] + r["notes"] for r in rows} == {""}
    assert rows[0]["time"] and rows[0]["room"]
    assert f"Wrote 5 entries of {contest.name}" in out


def test_codes_are_kept_from_one_export_to_the_next(contest, entries, tmp_path):
    first, _ = run("export_judge_packet", contest.slug)
    second, _ = run("export_judge_packet", contest.slug)
    assert first == second
    assert AuditEvent.objects.filter(action="entry_codes.assign").count() == 1


def test_export_fill_in_import_standings(contest, entries, tmp_path):
    packet = tmp_path / "packet.csv"
    run("export_judge_packet", contest.slug, "-o", str(packet))
    rows = list(csv.DictReader(packet.open(encoding="utf-8")))
    rows[3].update(place="1", score="9.5")  # the judges write on their copy
    rows[0].update(place="2", notes="good")
    with packet.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    out, _ = run("import_results", str(packet), "--dry-run")
    assert "Would record P3 Last3 (line 5)" in out
    assert "Would save 2 results" in out
    assert not Result.objects.exists()

    out, _ = run("import_results", str(packet))
    assert "Recorded P3 Last3 (line 5)" in out
    standings = selectors.tournament_standings(tournament=contest)
    assert [(s.name, s.place, s.points) for s in standings] == [
        ("P3 Last3", 1, 10),
        ("P0 Last0", 2, 7),
    ]

    again = tmp_path / "again.xlsx"  # exported again, with the results in it: a no-op
    run("export_judge_packet", contest.slug, "-o", str(again))
    out, _ = run("import_results", str(again))
    assert "Saved 0 results" in out and "5 unchanged" in out


def test_a_real_filled_in_file_is_read_as_people_type(round_trip):
    tournament, entries = round_trip
    out, _ = run("import_results", f"{DATA}/results_filled.csv")
    assert "Saved 3 results for" in out
    result = Result.objects.get(registration=entries[0])
    assert (result.place, str(result.score), result.notes) == (2, "8.50", "steady")
    assert Result.objects.get(registration=entries[3]).penalties == 2
    assert [s.name for s in selectors.tournament_standings(tournament=tournament)] == [
        "P2 Last2",
        "P0 Last0",
        "P3 Last3",
    ]
    out, _ = run("import_results", f"{DATA}/results_filled.csv")
    assert "Saved 0 results" in out


def test_every_bad_row_is_named_and_nothing_is_written(round_trip):
    other = TournamentFactory()
    EntryCode.objects.create(registration=entries_in(other, 1)[0], code="XTHR-0001")
    with pytest.raises(CommandError, match="Nothing was imported: 6 problem"):
        run("import_results", f"{DATA}/results_bad.csv")
    assert not Result.objects.exists()


def test_the_errors_carry_their_line_numbers(round_trip):
    from common.tabular import Table
    from results.importing import ResultsImportInvalid, results_import

    other = TournamentFactory(name="Elsewhere")
    EntryCode.objects.create(registration=entries_in(other, 1)[0], code="XTHR-0001")
    with pytest.raises(ResultsImportInvalid) as caught:
        results_import(table=Table(f"{DATA}/results_bad.csv"), actor="t")
    assert caught.value.result.errors == [
        "Line 2: place “first” is not a whole number from 1 up.",
        "Line 3: score “lots” is not a number.",
        "Line 4: no entry has the code “ZZZZ-9999”.",
        f"Line 5: entry code XTHR-0001 is an entry of Elsewhere, not of {round_trip[0].name}.",
        "Line 6: penalties “-1” is not a whole number from 0 up.",
        "Line 7: entry code RTAA-0003 is already on line 6.",
    ]


def test_skip_bad_rows_imports_the_others(round_trip):
    other = TournamentFactory()
    EntryCode.objects.create(registration=entries_in(other, 1)[0], code="XTHR-0001")
    out, err = run("import_results", f"{DATA}/results_bad.csv", "--skip-bad-rows")
    assert "Line 2:" in err and "Saved 1 result" in out
    assert Result.objects.get().place == 1


def test_placings_that_break_the_rules_refuse_the_whole_file(round_trip, tmp_path):
    path = tmp_path / "ties.csv"
    path.write_text(
        "tournament,code,place\nround-trip,RTAA-0001,1\nround-trip,RTAA-0002,2\n"
        "round-trip,RTAA-0003,9\n"
    )
    with pytest.raises(CommandError, match="Nothing was imported"):
        run("import_results", str(path))
    assert not Result.objects.exists()


def test_an_xlsx_packet_protects_headings_and_codes(contest, entries, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "packet.xlsx"
    run("export_judge_packet", contest.slug, "-o", str(path))
    sheet = load_workbook(path).active
    assert sheet.protection.sheet
    assert sheet["B2"].protection.locked and not sheet["H2"].protection.locked
    assert sheet["H1"].value == "place"


def test_the_packet_goes_per_day_and_room_and_each_room_file_comes_back(contest, tmp_path):
    from datetime import timedelta

    from common.times import local_date
    from registrations import services as engine
    from tests.factories import LocationFactory, ParticipantFactory, SlotFactory

    hall, studio = LocationFactory(name="Hall"), LocationFactory(name="Studio")
    nine = SlotFactory.build().starts_at
    # Signed up out of running order, rooms interleaved in time, over two days.
    for room, starts, name in [
        (studio, nine + timedelta(minutes=10), "Sue"),
        (hall, nine + timedelta(days=1), "Dan"),
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
    whole, _ = run("export_judge_packet", contest.slug)
    rows = list(csv.DictReader(io.StringIO(whole)))
    assert [(r["entrant"], r["room"], r["#"]) for r in rows] == [
        ("Hank X", "Hall", "1"),
        ("Hal X", "Hall", "2"),
        ("Sam X", "Studio", "1"),
        ("Sue X", "Studio", "2"),
        ("Dan X", "Hall", "1"),
    ]

    out, _ = run("export_judge_packet", contest.slug, "--per-room", str(tmp_path))
    day_one, day_two = (local_date(nine + timedelta(days=d)).isoformat() for d in (0, 1))
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [  # the rooms with their building: two buildings may share a room name
        f"{contest.slug}-{day_one}-hall-main-hall.csv",
        f"{contest.slug}-{day_one}-studio-main-hall.csv",
        f"{contest.slug}-{day_two}-hall-main-hall.csv",
    ]
    assert f"Wrote 5 entries of {contest.name} in 3 files" in out
    studio_file = tmp_path / files[1]
    studio_rows = list(csv.DictReader(studio_file.open(encoding="utf-8")))
    assert [r["entrant"] for r in studio_rows] == ["Sam X", "Sue X"]
    assert [r["code"] for r in studio_rows] == [r["code"] for r in rows[2:4]]  # codes kept

    studio_rows[1]["place"] = "1"  # the studio's judges hand back their own sheet
    with studio_file.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(studio_rows[0]))
        writer.writeheader()
        writer.writerows(studio_rows)
    out, _ = run("import_results", str(studio_file))
    assert "Saved 1 result for" in out
    assert [(s.name, s.place) for s in selectors.tournament_standings(tournament=contest)] == [
        ("Sue X", 1)
    ]

    run("export_judge_packet", contest.slug, "--per-room", str(tmp_path), "--xlsx")
    assert len(list(tmp_path.glob("*.xlsx"))) == 3


def test_the_per_room_packet_needs_a_folder_and_no_other_output(contest, entries, tmp_path):
    with pytest.raises(CommandError, match="No such directory"):
        run("export_judge_packet", contest.slug, "--per-room", str(tmp_path / "nope"))
    with pytest.raises(CommandError, match="not both"):
        run("export_judge_packet", contest.slug, "--per-room", str(tmp_path), "-o", "x.csv")
    with pytest.raises(CommandError, match="--xlsx goes with --per-room"):
        run("export_judge_packet", contest.slug, "--xlsx")
    assert not list(tmp_path.iterdir())
