"""A throw-away PostgreSQL cluster for the tests: initdb + pg_ctl in a temp dir on a free loopback port.

PostgreSQL refuses to run as root, so as root the cluster is created and run as ``nobody`` (through
``runuser``) in a temp dir that user owns. Without the binaries (``initdb`` on PATH or in
``/usr/lib/postgresql/*/bin``) the PG tests skip with a message saying how to get them; ``.ci/run``
installs Debian's ``postgresql`` package when it can.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SKIP_REASON = (
    "PostgreSQL is not installed (no initdb): the PostgreSQL store tests are skipped;"
    " `apt-get install postgresql` (done by .ci/run as root) to run them"
)


def _bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    bindir: Path
    root: Path
    port: int
    as_user: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql://handoff@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        """A fresh empty database; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://handoff@127.0.0.1:{self.port}/{name}"

    def drop_database(self, url: str) -> None:
        """Drop a database :meth:`new_database` made, once its test is done, so a run's cluster does not grow
        by a database (and its copy in the write-ahead log) per test: 36 of them made stopping the cluster
        (removing ~550 MB) take 6-24 s at the end of a busy run. A database a test left a connection open to
        stays (no FORCE: a leftover thread of that test would fail later) and goes with the cluster."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url, autocommit=True) as conn, contextlib.suppress(psycopg.errors.ObjectInUse):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, str(self.bindir / "pg_ctl"), "stop", "-D", str(self.root / "data"), "-m", "immediate"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster | None:
    """Start a cluster, or None when PostgreSQL is not installed."""
    bindir = _bindir()
    if bindir is None:
        return None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None
    root = Path(tempfile.mkdtemp(prefix="handoff-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        os.chown(root, 65534, 65534)  # nobody
        as_user = ["runuser", "-u", "nobody", "--"]
    cluster = Cluster(bindir, root, _free_port(), as_user)
    data = root / "data"
    cluster._run(str(bindir / "initdb"), "-D", str(data), "-U", "handoff", "--auth=trust", "-E", "UTF8", "--no-sync")
    # The port was free when the OS gave it out, but another process (a second xdist worker starting its own
    # cluster, a test server) may take it before the postmaster binds it: then try another one.
    for attempt in range(5):
        options = (
            f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB"
            " -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=96MB -c min_wal_size=32MB"
        )
        log = root / "log"
        try:
            cluster._run(
                str(bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data), "-o", options, "-l", str(log)
            )
            break
        except subprocess.CalledProcessError:
            said = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
            if attempt == 4 or "could not bind" not in said:
                shutil.rmtree(root, ignore_errors=True)
                raise
            cluster.port = _free_port()
    return cluster


def cluster_fixture() -> Iterator[Cluster | None]:
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        if cluster is not None:
            cluster.stop()
