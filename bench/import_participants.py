#!/usr/bin/env python3
"""Benchmark: `manage.py import_participants` on generated CSV files of growing size.

Each size runs in a fresh process (as staff run it) against an emptied PostgreSQL database;
the script prints wall time, rows per second and the process's peak RSS, first for an
import that creates everyone, then for a re-import of the same file (everything unchanged).
A header-only file gives the baseline RSS of Django itself.

    .venv/bin/python bench/import_participants.py                 # 10k, 50k, 100k rows
    .venv/bin/python bench/import_participants.py --sizes 2000,5000
    .venv/bin/python bench/import_participants.py --format xlsx --sizes 10000
    .venv/bin/python bench/import_participants.py --database-url postgres://.../lineup_x

The database (default IMPORT_BENCH_DATABASE_URL, else lineup_import_bench: a database of its
own, because the participants, teams, registrations and audit events in it are deleted
before each size) is created if it is missing.
"""

import argparse
import csv
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

FIRST = "Ada Bo Chloé Dmitri Emma Farid Grace Hana Íñigo Jürgen Léa Mateo Noémie Øystein Zoë"
LAST = "King Li Durand Ivanov Schmidt Haddad O'Neill Sato Núñez Müller Moreau García Ødegaard"
SCHOOLS = ["Hill School", "Lakeside Academy", "Lycée Molière", "Gymnasium Süd", "St. Mary's"]


HEADER = ["External ID", "First Name", "Last Name", "Date of Birth", "Grade", "School", "Team"]


def roster(rows, seed=7):
    """A realistic roster: ids, accented names, dates, schools; one in ten rows in a team.

    The same seed gives the same file, so a re-import changes nothing.
    """
    rng = random.Random(seed)
    first, last = FIRST.split(), LAST.split()
    for n in range(rows):
        born = f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(2006, 2015)}"
        yield [
            f"B-{n:07d}",
            rng.choice(first),
            rng.choice(last),
            born,
            str(rng.randint(1, 12)),
            rng.choice(SCHOOLS),
            f"Team {n % 500}" if n % 10 == 0 else "",
        ]


def write_file(path, rows):
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(HEADER)
        for row in roster(rows):
            sheet.append(row)
        workbook.save(path)
        return
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        out.writerows(roster(rows))


def ensure_database(url):
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def empty_tables(url):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE registrations_registrationmember, registrations_registration, "
            "common_auditevent, participants_participant, participants_team CASCADE"
        )
        conn.execute("VACUUM ANALYZE")


def run(env, *args):
    """Run manage.py in a child; returns (seconds, peak RSS in MB)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    out, err = child.stdout.read().decode(), child.stderr.read().decode()
    if status != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{out}\n{err}")
    return seconds, usage.ru_maxrss / 1024, out.strip().splitlines()[-1] if out.strip() else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "IMPORT_BENCH_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/lineup_import_bench",
        ),
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": "bench",
        "DEBUG": "0",
        "HTTPS": "0",
        "LOG_LEVEL": "WARNING",
    }

    ensure_database(args.database_url)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    load = os.getloadavg()
    print(f"# import_participants ({args.format}), {datetime.now():%Y-%m-%d %H:%M}")
    print(
        f"# {platform.node()}: {os.cpu_count()} CPU, Python {platform.python_version()}, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start"
    )
    print(f"{'rows':>8} {'run':<10} {'seconds':>8} {'rows/s':>8} {'peak RSS MB':>12}  result")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in [0, *sizes]:
            path = Path(tmp) / f"roster-{rows}.{args.format}"
            write_file(path, rows)
            empty_tables(args.database_url)
            for label in ("first", "re-import") if rows else ("baseline",):
                seconds, rss, summary = run(env, "import_participants", str(path), "-v1")
                rate = f"{rows / seconds:8.0f}" if rows else f"{'-':>8}"
                print(
                    f"{rows:>8} {label:<10} {seconds:8.1f} {rate} {rss:12.0f}  {summary}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
