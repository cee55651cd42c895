"""Restore drill: dump the database, restore the dump into a new database, compare.

    python ops/restore_drill.py [--database-url postgres://...] [--timeout 900]

Counts are taken inside the very snapshot that pg_dump reads (an exported REPEATABLE READ
snapshot), so the drill can run against a live database: the restored copy must match that
snapshot exactly. Compared: every table's row count, audit events per action, and the
engine's invariant (each slot's reserved_count equals the seats of its active registrations),
which must also hold on both sides. The new database gets a fresh name and is dropped at the
end whatever happens. Needs pg_dump and pg_restore (the PostgreSQL client) and a role that may
create databases. Exit status: 0 all matched, 1 a mismatch, 2 the drill could not run.
"""

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

Facts = dict[str, int]

TABLES = """
    SELECT quote_ident(schemaname) || '.' || quote_ident(tablename)
    FROM pg_tables WHERE schemaname = 'public' ORDER BY 1
"""
# Slots whose counter disagrees with their active registrations' seats (statuses that hold a
# place: every one but cancelled, as registrations.models.Registration.ACTIVE_STATUSES).
SLOT_COUNTER_MISMATCHES = """
    SELECT count(*) FROM tournaments_slot s
    LEFT JOIN (
        SELECT slot_id, sum(seats) AS seats FROM registrations_registration
        WHERE status <> 'cancelled' AND slot_id IS NOT NULL GROUP BY slot_id
    ) r ON r.slot_id = s.id
    WHERE s.reserved_count <> coalesce(r.seats, 0)
"""
AUDIT_BY_ACTION = "SELECT action, count(*) FROM common_auditevent GROUP BY action"


def facts(conn: psycopg.Connection) -> Facts:
    """Row counts per table, audit events per action, and invariant breaches."""
    found: Facts = {}
    with conn.cursor() as cur:
        for (table,) in cur.execute(TABLES).fetchall():
            found[f"rows {table}"] = cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for action, count in cur.execute(AUDIT_BY_ACTION).fetchall():
            found[f"audit {action}"] = count
        found["slots whose reserved_count is wrong"] = cur.execute(
            SLOT_COUNTER_MISMATCHES
        ).fetchone()[0]
    return found


def problems(source: Facts, restored: Facts) -> list[str]:
    found = [
        f"{key}: source {source.get(key)}, restored {restored.get(key)}"
        for key in sorted(source.keys() | restored.keys())
        if source.get(key) != restored.get(key)
    ]
    for side, values in (("source", source), ("restored", restored)):
        if values.get("slots whose reserved_count is wrong"):
            found.append(f"{side}: slots whose reserved_count is wrong")
    return found


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def scratch_database(conn: psycopg.Connection, name: str) -> Iterator[None]:
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield
    finally:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def run(command: list[str], deadline: float) -> None:
    remaining = max(deadline - time.monotonic(), 1)
    subprocess.run(command, check=True, timeout=remaining, capture_output=True, text=True)


def drill(url: str, *, timeout: float, out=sys.stdout) -> int:
    deadline = time.monotonic() + timeout
    source_name = urlsplit(url).path.lstrip("/")
    copy_name = f"{source_name[:40]}_drill_{secrets.token_hex(4)}"
    with (
        psycopg.connect(url, autocommit=True) as admin,
        psycopg.connect(url) as reader,
        tempfile.TemporaryDirectory() as tmp,
    ):
        reader.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = reader.execute("SELECT pg_export_snapshot()").fetchone()[0]
        dump = Path(tmp) / "lineup.dump"
        run(["pg_dump", "-Fc", f"--snapshot={snapshot}", "-f", str(dump), "-d", url], deadline)
        source = facts(reader)  # the same snapshot pg_dump read
        reader.rollback()
        print(f"Dumped {source_name}: {dump.stat().st_size:,} bytes.", file=out)
        with scratch_database(admin, copy_name):
            copy_url = with_database(url, copy_name)
            restore = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error"]
            run([*restore, "-d", copy_url, str(dump)], deadline)
            with psycopg.connect(copy_url) as copy:
                restored = facts(copy)
    print(f"Restored into {copy_name} (dropped again) and compared {len(source)} facts.", file=out)
    found = problems(source, restored)
    for problem in found:
        print(f"MISMATCH {problem}", file=out)
    print("Restore drill failed." if found else "Restore drill passed.", file=out)
    return 1 if found else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--timeout", type=float, default=900, help="seconds for the whole drill")
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("needs --database-url or DATABASE_URL pointing at PostgreSQL")
    try:
        return drill(args.database_url, timeout=args.timeout)
    except (subprocess.SubprocessError, psycopg.Error, OSError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        print(f"The restore drill could not run: {exc}\n{detail}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
