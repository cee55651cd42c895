"""Facts about lines that the whole file needs, kept off the heap."""

import sqlite3


class LineIndex:
    """Which line claimed which participant or name, which lines are skipped, which teams the
    file touched: in a private temporary SQLite database.

    SQLite keeps a temporary database in a small page cache and spills it to a file, so a
    million-row import costs disk, not memory.
    """

    def __init__(self) -> None:
        self.db = sqlite3.connect("")
        self.db.executescript(
            """
            PRAGMA cache_size = -4000;
            CREATE TABLE claims (key TEXT PRIMARY KEY, line INTEGER, digest TEXT) WITHOUT ROWID;
            CREATE TABLE skipped (line INTEGER PRIMARY KEY);
            CREATE TABLE teams (team_id TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID;
            """
        )

    def close(self) -> None:
        self.db.close()

    def claim(self, key: str, line: int, digest: str = "") -> tuple[int, str] | None:
        """Record that `line` touches `key`; returns (line, digest) of an earlier claim."""
        if self.db.execute(
            "INSERT OR IGNORE INTO claims VALUES (?, ?, ?)", (key, line, digest)
        ).rowcount:
            return None
        return self.db.execute("SELECT line, digest FROM claims WHERE key = ?", (key,)).fetchone()

    def claimed(self, key: str) -> int | None:
        found = self.db.execute("SELECT line FROM claims WHERE key = ?", (key,)).fetchone()
        return found[0] if found else None

    def skip(self, line: int) -> None:
        self.db.execute("INSERT OR IGNORE INTO skipped VALUES (?)", (line,))

    def skipped_between(self, first: int, last: int) -> set[int]:
        rows = self.db.execute(
            "SELECT line FROM skipped WHERE line BETWEEN ? AND ?", (first, last)
        ).fetchall()
        return {line for (line,) in rows}

    def team(self, team_id: object, line: int) -> None:
        """Remember the first line that names a team (an id, or "new:<key>" in pass 1)."""
        self.db.execute("INSERT OR IGNORE INTO teams VALUES (?, ?)", (str(team_id), line))

    def teams_forget(self) -> None:
        self.db.execute("DELETE FROM teams")

    def teams(self) -> list[tuple[str, int]]:
        return self.db.execute("SELECT team_id, line FROM teams ORDER BY line").fetchall()

    def count_teams(self) -> int:
        return self.db.execute("SELECT count(*) FROM teams").fetchone()[0]
