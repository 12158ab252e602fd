"""Every query the worker, the CLI and the review run uses its index on a store planned as at 1,000,000 rows.

How: the statements are captured while the real code runs (sqlite3 trace callbacks on the audit log's
and the store's connections), then each is put through ``EXPLAIN QUERY PLAN`` twice:

- without statistics, as every deployed store is (nothing runs ``ANALYZE``): SQLite then assumes each
  table holds about 1,048,576 rows (``nRowLogEst = 200`` in its source), so these are the 1M plans;
- with ``sqlite_stat1`` rows written for a store of 1,000,000 decisions (ids unique, statuses, triggers
  and kinds a handful of values), so that running ``ANALYZE`` on a grown store cannot turn a plan bad.

No plan may scan a large table (a rowid scan with ``ORDER BY id DESC LIMIT`` reads only ``LIMIT`` rows and
is allowed), and the correlated ``EXISTS`` on ``audit_reasons`` must search by ``decision_id``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.audit import SQLiteAudit
from connectors.store.sqlite import SQLiteStore
from store.workload import BIG_TABLES, run_workload

MILLION = 1_000_000
#: Columns with a handful of distinct values; every other indexed column is close to unique.
LOW_CARDINALITY = {"status", "trigger", "kind", "target", "source", "channel", "action", "simulated"}
#: Statements that may read a whole table: a rowid walk that stops after LIMIT rows.
BOUNDED_SCAN = re.compile(r"ORDER BY id DESC LIMIT \d+\s*$")
#: ``--reason`` with a trigger few reasons carry starts from those reasons (``DecisionFilter.rare_trigger``).
RARE_TRIGGER_FORM = "d.id IN (SELECT r.decision_id FROM audit_reasons r WHERE r.trigger ="


def exercise(path: Path) -> list[str]:
    """Run the workload (:mod:`store.workload`) on a SQLite store; return the SQL it ran."""
    seen: list[str] = []
    log, store = SQLiteAudit(path), SQLiteStore(path)
    log.connection.set_trace_callback(seen.append)
    store._conn.set_trace_callback(seen.append)
    try:
        run_workload(log, store)
    finally:
        log.connection.set_trace_callback(None)
        store._conn.set_trace_callback(None)
        log.close()
        store.close()
    return [s for s in dict.fromkeys(seen) if re.match(r"\s*(SELECT|UPDATE|DELETE|INSERT)", s, re.IGNORECASE)]


def write_million_stats(conn: sqlite3.Connection) -> None:
    """``sqlite_stat1`` as ``ANALYZE`` would write it for a store of a million decisions."""
    conn.execute("ANALYZE")
    conn.execute("DELETE FROM sqlite_stat1")
    for table in BIG_TABLES:
        conn.execute("INSERT INTO sqlite_stat1 VALUES (?, NULL, ?)", (table, str(MILLION)))
        for index in conn.execute(f"PRAGMA index_list({table})").fetchall():
            columns = [c[2] for c in conn.execute(f"PRAGMA index_info({index[1]})").fetchall()]
            per_prefix = []
            rows = MILLION
            for column in columns:
                rows = max(1, rows // 10) if column in LOW_CARDINALITY else 1
                per_prefix.append(str(rows))
            conn.execute(
                "INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", (table, index[1], " ".join([str(MILLION), *per_prefix]))
            )
    conn.commit()


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("plans") / "store.sqlite3"
    return path, exercise(path)


def plans(path: Path, statements: list[str], *, stats: bool) -> Iterator[tuple[str, list[str]]]:
    target = path.with_name(f"{path.stem}-{'stats' if stats else 'plain'}.sqlite3")
    source = sqlite3.connect(path)
    copy = sqlite3.connect(target)
    source.backup(copy)
    source.close()
    if stats:
        write_million_stats(copy)
    copy.close()
    conn = sqlite3.connect(target)  # statistics are read when a connection opens
    try:
        for sql in statements:
            yield sql, [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()]
    finally:
        conn.close()


@pytest.mark.parametrize("stats", [False, True], ids=["no-statistics", "million-row-statistics"])
def test_no_query_scans_a_large_table(captured: tuple[Path, list[str]], stats: bool) -> None:
    """No statement the worker, the CLI or the review runs walks a whole large table."""
    path, statements = captured
    assert len(statements) > 40
    bad = []
    for sql, plan in plans(path, statements, stats=stats):
        for line in plan:
            scan = re.match(r"SCAN (\w+)(?: AS \w+)?$", line) or re.match(r"SCAN (\w+)$", line)
            table = scan.group(1) if scan else None
            if table is None:
                continue
            if (table in BIG_TABLES or table in {"d", "r", "e", "v"}) and not BOUNDED_SCAN.search(sql):
                bad.append(f"{line}  <-  {sql[:160]}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("stats", [False, True], ids=["no-statistics", "million-row-statistics"])
def test_reason_lookups_search_by_decision(captured: tuple[Path, list[str]], stats: bool) -> None:
    """Every lookup of a decision's reasons (``--reason``, event matching, the review) goes by decision_id."""
    path, statements = captured
    checked = 0
    for sql, plan in plans(path, statements, stats=stats):
        if "FROM audit_reasons r WHERE r.decision_id = d.id" not in sql:
            continue
        for line in plan:
            if line.startswith("SEARCH r "):
                checked += 1
                assert "(decision_id=" in line, f"{line}  <-  {sql[:160]}"
    assert checked >= 5


@pytest.mark.parametrize("stats", [False, True], ids=["no-statistics", "million-row-statistics"])
def test_time_windows_and_health_use_their_indexes(captured: tuple[Path, list[str]], stats: bool) -> None:
    """Windows of decisions go through the time index; readyz and lag read the (status, arrival) indexes."""
    path, statements = captured
    time_or_conversation = ("audit_decisions_listing", "audit_decisions_conversation")
    expected: dict[str, tuple[str, ...]] = {
        "audit_decisions d WHERE d.decided_at >=": time_or_conversation,  # a conversation's own index is finer
        "SELECT (SELECT MIN(received_at) FROM inbox WHERE status = 'pending')": ("inbox_pending_age",),
        "FROM outbox WHERE status IN ('pending', 'dead') GROUP BY target": ("outbox_status_lane",),
        "FROM inbox WHERE status IN ('pending', 'dead') GROUP BY source": ("inbox_status_source",),
        "SELECT id FROM inbox WHERE status = 'pending' AND +next_attempt_at": ("inbox_claim_order",),
        "conversation_id = 'c1' AND simulated = 0 AND decided_at <=": ("audit_decisions_conversation",),
    }
    found = dict.fromkeys(expected, 0)
    for sql, plan in plans(path, statements, stats=stats):
        for marker, indexes in expected.items():
            if marker in sql and RARE_TRIGGER_FORM not in sql:
                found[marker] += 1
                assert any(i in line for i in indexes for line in plan), f"{indexes}: {plan}  <-  {sql[:160]}"
    assert all(found.values()), found
    claim = next(plan for sql, plan in plans(path, statements, stats=stats) if "+next_attempt_at" in sql)
    assert not any("TEMP B-TREE" in line for line in claim), claim  # pending rows read in order, not sorted
    oldest = next(plan for sql, plan in plans(path, statements, stats=stats) if "MIN(created_at) FROM outbox" in sql)
    assert any("outbox_pending_age" in line for line in oldest)


@pytest.mark.parametrize("stats", [False, True], ids=["no-statistics", "million-row-statistics"])
def test_rare_trigger_listing_starts_from_its_reasons(captured: tuple[Path, list[str]], stats: bool) -> None:
    """``--reason`` with a rare trigger reads that trigger's reasons and finds each decision by id; the probe
    that decides so reads the trigger index only."""
    path, statements = captured
    checked = 0
    for sql, plan in plans(path, statements, stats=stats):
        if RARE_TRIGGER_FORM in sql:
            checked += 1
            assert any("audit_reasons_trigger (trigger=?)" in line for line in plan), plan
            by_id = "SEARCH d USING INDEX sqlite_autoindex_audit_decisions_1 (id=?)"
            assert any(line.startswith(by_id) for line in plan), plan
        if "SELECT 1 FROM audit_reasons WHERE trigger =" in sql:
            checked += 1
            assert any("COVERING INDEX audit_reasons_trigger (trigger=?)" in line for line in plan), plan
    assert checked >= 3


@pytest.mark.parametrize("stats", [False, True], ids=["no-statistics", "million-row-statistics"])
def test_listings_stop_at_their_limit_and_filter_on_index_entries(
    captured: tuple[Path, list[str]], stats: bool
) -> None:
    """Every filter of ``handoff decisions`` (table and export) walks the listing index in time order with no
    sort, so "the newest 200 matching" stops after 200 matches, and tests its columns (simulated, channel,
    action, trigger list) on the index entries: a filter nothing passes reads index entries, not rows."""
    listings = 0
    path, statements = captured
    for sql, plan in plans(path, statements, stats=stats):
        if "FROM audit_decisions d WHERE" not in sql or "ORDER BY d.decided_at" not in sql:
            continue
        if RARE_TRIGGER_FORM in sql or "d.conversation_id =" in sql:
            continue  # a rare trigger's few decisions are sorted; a conversation has its own index
        listings += 1
        assert plan[0].startswith("SEARCH d USING INDEX audit_decisions_listing (decided_at>"), f"{plan}  <-  {sql}"
        assert not any("TEMP B-TREE" in line for line in plan), f"{plan}  <-  {sql}"
    assert listings >= 14  # each filter of the workload, as a table and as an export page


def test_listing_filters_read_a_row_only_when_it_matches(captured: tuple[Path, list[str]]) -> None:
    """In the bytecode of every filtered listing the decision's row is fetched lazily (``DeferredSeek``):
    the filter's comparisons run on the index entry first, so rejected decisions cost no row read."""
    path, statements = captured
    conn = sqlite3.connect(path)
    checked = 0
    try:
        for sql in statements:
            listing = "FROM audit_decisions d WHERE" in sql and "ORDER BY d.decided_at" in sql
            filtered = any(f"d.{column}" in sql for column in ("channel", "action", "trigger_list", "simulated"))
            if not listing or not filtered or RARE_TRIGGER_FORM in sql or "d.conversation_id =" in sql:
                continue
            ops = [row[1] for row in conn.execute("EXPLAIN " + sql)]
            assert "DeferredSeek" in ops, f"{ops}  <-  {sql}"
            assert "SeekRowid" not in ops and "NotExists" not in ops, f"{ops}  <-  {sql}"
            checked += 1
    finally:
        conn.close()
    assert checked >= 12


def test_listing_index_carries_every_filtered_column(captured: tuple[Path, list[str]]) -> None:
    """The listing index holds every column a ``handoff decisions`` filter tests besides the conversation,
    in time order, so no filter needs the decision's row to reject it (columns read from the store)."""
    path, _ = captured
    conn = sqlite3.connect(path)
    try:
        columns = [row[2] for row in conn.execute("PRAGMA index_info(audit_decisions_listing)")]
        plain_time = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit_decisions_time'").fetchone()
    finally:
        conn.close()
    assert columns == ["decided_at", "seq", "simulated", "channel", "action", "trigger_list"]
    assert plain_time is None  # superseded: a plan that preferred it would read rows to filter
