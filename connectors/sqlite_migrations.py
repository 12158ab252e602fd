"""Tiny schema-migration runner shared by every component that keeps tables in the SQLite store.

Each component (the worker's inbox/outbox, the audit log, ...) owns a list of SQL scripts; script ``n``
is applied once, in order, and recorded in ``schema_migrations`` under the component's name. Components
never touch each other's tables, so they can evolve independently in the same file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path


def connect(path: Path) -> sqlite3.Connection:
    """Open the store with the settings every component relies on (WAL, foreign keys, busy timeout)."""
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    # 512 KiB of page cache per connection instead of SQLite's 2 MiB: the worker holds two connections for
    # weeks, its writes touch the right edge of each b-tree only, and the operating system caches the file
    # anyway (docs/volume.md, worker memory).
    conn.execute("PRAGMA cache_size=-512")
    return conn


def migrate(conn: sqlite3.Connection, component: str, scripts: Sequence[str]) -> int:
    """Apply the scripts of ``component`` not applied yet; return the schema version now in force."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " component TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL DEFAULT (datetime('now')),"
        " PRIMARY KEY (component, version))"
    )
    row = conn.execute(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?", (component,)
    ).fetchone()
    current = int(row[0])
    for version, script in enumerate(scripts, start=1):
        if version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _split(script):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations (component, version) VALUES (?, ?)", (component, version))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        current = version
    return current


def _split(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
