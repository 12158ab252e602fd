"""Months of traffic: a million decisions in the store, then what a support lead and a load balancer run.

Steps (each printed as it finishes; the table at the end is what docs/volume.md quotes):

1. Build a store with 1,000,000 decisions over 90 days (:mod:`synthetic_store`, its ``live`` mix: rows of
   the size the worker writes, a deployment's shares of channels, actions and triggers) and the worker tables
   grown alongside: 1,000,000 outbox rows and 1,000,000 inbox rows already done, a small backlog still
   pending (as during a burst), 300,000 remembered conversations. No ``ANALYZE`` is run, as in a real
   deployment.
2. ``handoff decisions`` with every option of the command (each filter, from the commonest to one that
   matches nothing, some combinations, the formats, ``--limit``, ``--output``; the default table is the
   newest matches of the last 7 days), and ``handoff --help`` for the start-up alone, each as its own
   process, ``--runs`` times: median and slowest wall time, median CPU time (user + system: other jobs
   share the cores) and the load average.
3. ``handoff report --since 7d --compare-previous`` (about 78,000 decisions and as many before).
4. ``handoff outbox lag``.
5. ``handoff serve`` on that store: 1,000 ``GET /readyz`` (median and p99 as the client sees them, and
   the worker's CPU time per call) and one ``GET /metrics``, whose lag series (pending, oldest pending
   age, dead; per queue and lane) are printed and required; the worker's RSS afterwards.
6. With ``--worker-decisions N``: :mod:`soak_worker` pushes N decisions of realistic traffic (multi-turn
   conversations, every message decided) through the worker's own decision path (the app's lifespan, the
   web-chat turn, the decision pool, the audit log, the store) into a fresh store, and samples the
   worker's RSS every N/10 decisions.

Must hold (issue 15): ``handoff decisions`` any filter ≤ 2 s; ``/readyz`` ≤ 5 ms; worker RSS ≤ 150 MB.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_soak.py --keep DIR [--runs 3] [--scheduling
priority] [--worker-decisions 1000000]`` (the store, 1.7 GB, is built once in DIR, 13 minutes at load 6-15,
and reused; docs/volume.md quotes ``--keep /work/h/store-data --runs 3 --scheduling priority``).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_store import fill

from connectors.store.sqlite import SQLiteStore

DECISIONS = 1_000_000
DAYS = 90
ROOT = Path(__file__).resolve().parents[1]


def build(path: Path, now: datetime) -> None:
    started = time.perf_counter()
    SQLiteStore(path).close()  # the worker's tables, migrated
    fill(path, DECISIONS, now - timedelta(days=DAYS), timedelta(days=DAYS), seed=1, prefix="s", mix="live")
    conn = sqlite3.connect(path)
    base = (now - timedelta(days=DAYS)).timestamp()
    step = DAYS * 86400 / DECISIONS
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO outbox (kind, target, dedupe_key, conversation_id, decision_id, payload, status, attempts,"
        " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, '{}', ?, 1, ?, ?, ?)",
        (
            (
                "zendesk.handoff" if n % 3 else "slack.alert",
                "zendesk" if n % 3 else "slack",
                f"k{n}",
                f"sc{n % 300_000}",
                "done",
                base + n * step,
                base + n * step,
                base + n * step,
            )
            for n in range(DECISIONS)
        ),
    )
    conn.executemany(
        "INSERT INTO inbox (source, dedupe_key, kind, payload, received_at, status, attempts, next_attempt_at)"
        " VALUES (?, ?, 'ticket', '{}', ?, 'done', 1, ?)",
        (("zendesk" if n % 4 else "slack", f"i{n}", base + n * step, base + n * step) for n in range(DECISIONS)),
    )
    conn.executemany(
        "INSERT INTO conversations (id, channel, document, created_at, updated_at) VALUES (?, 'webchat', '{}', ?, ?)",
        ((f"sc{n}", base, base) for n in range(300_000)),
    )
    pending_at = now.timestamp() - 40
    conn.executemany(
        "INSERT INTO outbox (kind, target, dedupe_key, payload, status, next_attempt_at, created_at, updated_at)"
        " VALUES ('zendesk.handoff', 'zendesk', ?, '{}', 'pending', ?, ?, ?)",
        ((f"p{n}", pending_at + 3600, pending_at + n, pending_at + n) for n in range(50)),
    )
    conn.executemany(
        "INSERT INTO inbox (source, dedupe_key, kind, payload, received_at, status, next_attempt_at)"
        " VALUES ('zendesk', ?, 'ticket', '{}', ?, 'pending', ?)",
        ((f"q{n}", pending_at + n, pending_at + 3600) for n in range(20)),
    )
    conn.execute("COMMIT")
    conn.close()
    print(f"built 1,000,000 decisions + worker tables in {time.perf_counter() - started:.0f} s", flush=True)


def timed(command: list[str], env: dict[str, str], runs: int = 3) -> tuple[float, float, float, float]:
    """(median wall s, slowest wall s, median CPU s, load average) of ``command``, each run its own process.

    The load average (1 minute, read after the runs) says how many other jobs shared the two cores: the
    wall time depends on it, the CPU time (user + system of the command, from ``wait4``) does not."""
    walls, cpus = [], []
    for _ in range(runs):
        with tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
            _, status, usage = os.wait4(proc.pid, 0)
            walls.append(time.perf_counter() - started)
            cpus.append(usage.ru_utime + usage.ru_stime)
            code = os.waitstatus_to_exitcode(status)
            if code not in (0, 3):  # 3: `outbox lag` says a lane is behind (the backlog is made on purpose)
                err.seek(0)
                raise SystemExit(f"{' '.join(command)} failed: {err.read().decode()[-1500:]}")
    return statistics.median(walls), max(walls), statistics.median(cpus), os.getloadavg()[0]


def _line(row: tuple[str, float, float, float, float]) -> str:
    label, wall, slowest, cpu, load = row
    return f"{label}: {wall:.2f} s wall (slowest {slowest:.2f} s), {cpu:.2f} s CPU, load average {load:.1f}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


READYZ_CALLS = 1_000


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def readyz(path: Path, env: dict[str, str]) -> tuple[float, float, float, float, int]:
    """(median ms, p99 ms, worker CPU ms per call, RSS MB after, /metrics bytes) of ``handoff serve``."""
    port = free_port()
    env = {**env, "HANDOFF_DATABASE_URL": f"sqlite:///{path}", "PORT": str(port), "LOG_LEVEL": "warning"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("handoff")), "serve"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("handoff serve did not start")
            time.sleep(0.5)
        # A keep-alive connection of the standard library's http.client: the lightest client at hand, so
        # that the wall time is mostly the worker's (httpx costs ~0.3 ms of client CPU a call).
        times = []
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            for _ in range(20):
                client.request("GET", "/readyz")
                client.getresponse().read()
            cpu_before = cpu_seconds(proc.pid)
            for _ in range(READYZ_CALLS):
                started = time.perf_counter()
                client.request("GET", "/readyz")
                answer = client.getresponse()
                body = answer.read()
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status == 200, body
            cpu_ms = (cpu_seconds(proc.pid) - cpu_before) * 1000 / READYZ_CALLS
            client.request("GET", "/metrics")
            metrics = client.getresponse().read().decode()
        finally:
            client.close()
        times.sort()
        rss = int(Path(f"/proc/{proc.pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024
        lag = [line for line in metrics.splitlines() if line.startswith("handoff_queue_") and "{" in line]
        for line in lag:  # the lag of each queue and lane, as a scrape sees it on this store
            print(f"/metrics: {line}", flush=True)
        if not any(line.startswith("handoff_queue_oldest_pending_seconds") for line in lag):
            raise SystemExit("/metrics has no handoff_queue_oldest_pending_seconds")
        return statistics.median(times), times[int(len(times) * 0.99)], cpu_ms, rss, len(metrics)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def worker_soak(decisions: int, folder: Path, env: dict[str, str]) -> list[dict[str, float]]:
    """:mod:`soak_worker`: ``decisions`` through the worker's decision path into a fresh store; RSS samples."""
    database = folder / f"worker-{decisions}.sqlite3"
    for stale in folder.glob(f"worker-{decisions}.sqlite3*"):
        stale.unlink()
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "soak_worker.py"),
            "--decisions",
            str(decisions),
            "--every",
            str(max(1, decisions // 10)),
            "--database",
            str(database),
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def schedule(how: str) -> None:
    """Give this process (and so every command and server it starts) its share of a loaded machine.

    Linux schedules by autogroup (one per session) before nice values: ``nice -n -10`` alone gains
    little against other sessions' jobs, so ``priority`` starts a new session and lowers its autogroup's
    nice. ``fifo`` uses the real-time FIFO class: no wake-up waits behind another job's time slice.
    """
    if how == "priority":
        with contextlib.suppress(PermissionError):  # already a session leader: its autogroup is its own
            os.setsid()
        Path("/proc/self/autogroup").write_text("-10")
        os.nice(-10)
    elif how == "fifo":
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    print(f"scheduling: {how}; load average {os.getloadavg()[0]:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--worker-decisions",
        type=int,
        default=0,
        help="also run bench/soak_worker.py for this many decisions (1000000 for the issue's soak; ~1 h of CPU)",
    )
    parser.add_argument("--keep", type=Path, help="build (or reuse) the store in this folder")
    parser.add_argument(
        "--store",
        type=Path,
        help="time an existing store instead (e.g. the one bench/soak_worker.py filled through the worker): nothing"
        " is built; the exports of the last hour and day are left out, since a soak writes its million in about"
        " an hour and they would time the writing of the whole store, not a filter",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per command (median)")
    parser.add_argument(
        "--steps",
        default="cli,report,lag,readyz",
        help="which steps to time, comma-separated (cli, report, lag, readyz); the store is built in any case",
    )
    parser.add_argument(
        "--scheduling",
        choices=("shared", "priority", "fifo"),
        default="shared",
        help="shared: as every other job (default); priority: this bench and what it starts get the upper hand"
        " over the machine's other jobs (own scheduler autogroup at nice -10, what nicing them would do; root);"
        " fifo: real-time FIFO scheduling, the figures of a quiet machine (root)",
    )
    args = parser.parse_args()
    schedule(args.scheduling)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = args.store or folder / "soak.sqlite3"
        if not path.exists():
            if args.store:
                raise SystemExit(f"{args.store} does not exist")
            build(path, now)
        handoff = [str(Path(sys.executable).with_name("handoff"))]
        db = ["--database", str(path)]
        steps = set(args.steps.split(","))
        rows: list[tuple[str, float, float, float, float]] = []
        out_file = folder / "decisions.csv"
        # Shares are those of the ``live`` mix of synthetic_store (its docstring): the rarer the matches, the
        # further back "the newest 200" lie, and a filter nothing passes walks the whole period.
        cli: tuple[tuple[str, list[str]], ...] = (
            ("--help (start-up: the group, no command module)", ["--help"]),
            ("decisions (last 7 days, newest 200)", []),
            ("decisions --since 90d", ["--since", "90d"]),
            ("decisions --reason low_confidence (19 % of decisions)", ["--reason", "low_confidence"]),
            ("decisions --reason vip (2 %)", ["--reason", "vip"]),
            ("decisions --since 90d --reason human_request (4 %)", ["--since", "90d", "--reason", "human_request"]),
            ("decisions --since 90d --reason sales_lead (0.7 %)", ["--since", "90d", "--reason", "sales_lead"]),
            ("decisions --since 90d --reason bot_loop (0.3 %)", ["--since", "90d", "--reason", "bot_loop"]),
            ("decisions --action handoff", ["--action", "handoff"]),
            ("decisions --since 90d --action offer_handoff", ["--since", "90d", "--action", "offer_handoff"]),
            ("decisions --channel email (0.2 %)", ["--channel", "email"]),
            ("decisions --since 90d --channel zendesk", ["--since", "90d", "--channel", "zendesk"]),
            ("decisions --since 90d --channel sms (no match)", ["--since", "90d", "--channel", "sms"]),
            ("decisions --simulated (1 %, in bursts)", ["--simulated"]),
            ("decisions --since 90d --simulated", ["--since", "90d", "--simulated"]),
            (
                "decisions --since 90d --channel email --reason vip (a few)",
                ["--since", "90d", "--channel", "email", "--reason", "vip"],
            ),
            (
                "decisions --since 90d --simulated --action handoff --reason human_request",
                ["--since", "90d", "--simulated", "--action", "handoff", "--reason", "human_request"],
            ),
            ("decisions --live", ["--live"]),
            ("decisions --all", ["--all"]),
            ("decisions --limit 1000 (table of 1,000 rows)", ["--limit", "1000"]),
            ("decisions --since 1h --format jsonl (~460 rows)", ["--since", "1h", "--format", "jsonl"]),
            ("decisions --since 1d --format csv (~11,000 rows)", ["--since", "1d", "--format", "csv"]),
            (
                "decisions --since 1d --format csv --output FILE",
                ["--since", "1d", "--format", "csv", "--output", str(out_file)],
            ),
        )
        if args.store:
            cli = tuple((label, extra) for label, extra in cli if "--format" not in extra)
        for label, extra in cli if "cli" in steps else ():
            options = [*extra, str(out_file)] if extra[-1:] == ["--output"] else extra
            command = [*handoff, *options] if options == ["--help"] else [*handoff, "decisions", *db, *options]
            rows.append((f"handoff {label}", *timed(command, env, args.runs)))
            print(_line(rows[-1]), flush=True)
        if "report" in steps:
            out = folder / "review.html"
            report = [*handoff, "report", "--since", "7d", "--compare-previous", *db, "--output", str(out)]
            rows.append(("handoff report --since 7d --compare-previous", *timed(report, env, args.runs)))
            print(_line(rows[-1]), flush=True)
        if "lag" in steps:
            lag_env = {**env, "HANDOFF_DATABASE_URL": f"sqlite:///{path}"}
            rows.append(("handoff outbox lag", *timed([*handoff, "outbox", "lag"], lag_env, args.runs)))
            print(_line(rows[-1]), flush=True)
        served = readyz(path, env) if "readyz" in steps else None
        if served is not None:
            median_ms, p99_ms, cpu_ms, rss, _ = served
            print(
                f"/readyz: median {median_ms:.2f} ms, p99 {p99_ms:.2f} ms, {cpu_ms:.3f} ms of worker CPU a call;"
                f" worker RSS {rss:.0f} MB; load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        samples = worker_soak(args.worker_decisions, folder, env) if args.worker_decisions else []
        for sample in samples:
            print(json.dumps(sample), flush=True)
    print(f"\n| step on 1,000,000 decisions | wall (median of {args.runs}) | slowest wall | CPU (median) | load |")
    print("|---|---|---|---|---|")
    for label, wall, slowest, cpu, load in rows:
        print(f"| `{label}` | {wall:.2f} s | {slowest:.2f} s | {cpu:.2f} s | {load:.1f} |")
    if served is not None:
        median_ms, p99_ms, cpu_ms, rss, metrics_bytes = served
        print(
            f"| `GET /readyz` ({READYZ_CALLS} calls) | median {median_ms:.2f} ms, p99 {p99_ms:.2f} ms"
            f" | {cpu_ms:.3f} ms |"
        )
        print(f"\nworker RSS after the readyz/metrics run: {rss:.0f} MB (/metrics {metrics_bytes} bytes)")
    if samples:
        print(
            "worker soak (decisions: RSS MB): "
            + ", ".join(f"{x['decisions']:,}: {x['rss_mb']}" for x in samples if "decisions" in x)
        )


if __name__ == "__main__":
    main()
