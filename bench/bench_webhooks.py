"""HTTP benchmark with a real load generator (``wrk``): the worker next to a bare FastAPI app, same run.

Why: an earlier Python client was itself the bottleneck and flattered the worker (0.83-0.97x bare when
the truth was 0.50x). Here ``wrk`` (Debian package ``wrk``) drives the load from its own core, and every
figure for the worker is printed next to the bare endpoint's from the same run, same uvicorn settings:

- **Zendesk webhook acknowledgement** (``POST /webhooks/zendesk``): bounded read, signature check,
  parse, durable inbox insert, 202. Every request is a distinct, correctly signed delivery (pre-signed
  just before the run; wrk cycles through them), so nothing is answered from the dedupe table.
- **Web-chat message** (``POST /v1/webchat/messages``) with a 2 KB customer message (43 real CFPB
  complaints in turn), each request the first message of a new conversation: parse, decide, store the
  turn, answer with the decision. The worker runs in local mode (no web-chat secret: wrk cannot sign).
  The bare endpoint reads the body and answers a fixed JSON.
- **Web-chat corpus mix** (``--scenarios ...,webchat_mix``, no target of its own): the same, cycling through
  all 1,000 corpus messages (median 56 characters, five languages): most continue, a minority hand off.

For each: throughput (``wrk -t1 -c32``, closed loop; a connection answered 503 waits its ``Retry-After``
before its next request, as a well-behaved client would; only 2xx answers count) and latency at a fixed
offered rate (wrk paced by a small Lua clock: one request every 1/rate seconds, so a slow server is not let
off by waiting for it), p50/p99 from wrk's histogram (every answer: 2xx and 503 alike), the p99 of the 2xx
answers alone (web chat: paired by the conversation id the answer echoes) and the 2xx and 503 rates, so a
worker that sheds load is not mistaken for one that serves it; a verdict line per target of the issue (judged
on the 2xx p99), and the server's CPU milliseconds per 2xx answer (all its threads, from /proc, during the
closed-loop run: on a shared machine this is steadier than req/s; "+inbox": the same CPU counted until the
inbox has processed every delivery of the run, since the worker's inbox gives way to acknowledgements
during a burst and works through the backlog after it, and the paced run starts from an empty inbox).
``--nice N`` runs the servers and wrk at niceness N. Servers are pinned to one core, wrk to
another; the worker runs as deployed (inbox and outbox processors on; ``--ack-only``: off) and its RSS is read
from /proc after the load. The machine may be shared: repeat with ``--repeat`` and compare medians; each run
starts the servers in the opposite order of the one before, and the load average is printed.

    .venv/bin/python bench/bench_webhooks.py [--seconds 10] [--repeat 3]

``--shared-cores`` pins nothing (the worker's decision processes, ``DECISION_PROCESSES``, may then use the
second core, which wrk shares; pinned, the worker sees one usable core and decides in threads);
``--threads-too`` adds this checkout with ``DECISION_PROCESSES=0`` to every run. The CPU per request is also
split by where it went (the event loop's thread, other threads, the decision processes: from /proc, the
children included), memory is given as RSS, PSS and USS of the server and its decision processes
(``/proc/PID/smaps_rollup``), and ``GET /readyz`` is timed every 0.2 s during the paced run.

``--baseline DIR`` adds the worker of another checkout (``git worktree add DIR <commit>``) to every run,
served by the same interpreter and measured in the same run, alternating which of the two goes first,
so a change is judged as "worker/bare ratio now" against "worker/bare ratio before" on the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakes.signing import zendesk_headers  # noqa: E402

SECRET = "bench-webhook-secret"
#: The issue's targets per scenario: (throughput as a multiple of bare, p99 in ms at the offered rate).
TARGETS = {"zendesk": (0.8, 20.0), "webchat_2kb": (0.5, 50.0)}
ZENDESK_BODY = (
    '{{"handoff_guard": 1, "event": "ticket.updated", "ticket": {{"id": "{ticket}", "status": "open",'
    ' "tags": "vip billing", "updated_at": "{updated_at}"}}}}'
)

APP = """
import os, sys
sys.path.insert(0, {root!r})
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

def bare():
    app = FastAPI()

    @app.post("/webhooks/zendesk", status_code=202)
    async def zendesk() -> dict[str, str]:
        return {{"status": "accepted"}}

    @app.post("/v1/webchat/messages")
    async def webchat(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({{"action": "continue", "stay_silent": False}})

    return app

def worker():
    from connectors.settings import Settings
    from connectors.worker.app import create_app
    return create_app(Settings(_env_file=None, zendesk_webhook_secret={secret!r},
                               handoff_database_url="sqlite:///" + os.environ["BENCH_DB"]),
                      processors=os.environ.get("BENCH_PROCESSORS", "1") == "1")

app = bare() if os.environ["BENCH_KIND"] == "bare" else worker()
"""

#: wrk script: cycles through pre-built requests; with a rate, paces one request per 1/rate seconds.
LUA = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
end
local requests = dofile(os.getenv("BENCH_REQUESTS"))
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local i = 0
local next_at = nil
-- The latency of 2xx answers alone, for requests whose body names a conversation (web chat): the answer
-- echoes its conversation_id, so send and answer times pair up without knowing the connection.
local keys = {}
for n, r in ipairs(requests) do keys[n] = string.match(r, '"conversation_id": "([^"]+)"') end
local sent = {}
ok_ms = {}
-- Per status class, counted in each wrk thread (globals, read back by done() through setup's threads).
ok_count, shed_count = 0, 0
local threads = {}
setup = function(thread) table.insert(threads, thread) end
-- Closed loop: a connection answered 503 waits its Retry-After before its next request, as a client that
-- honours it would (wrk asks delay() for the next request of the connection that just got its answer).
local backoff_ms = 0
response = function(status, headers, body)
  if status < 300 then
    ok_count = ok_count + 1
    local key = string.match(body, '"conversation_id":%s*"([^"]+)"')
    if key ~= nil and sent[key] ~= nil then
      ok_ms[#ok_ms + 1] = now_ms() - sent[key]
      sent[key] = nil
    end
  elseif status == 503 then
    shed_count = shed_count + 1
    backoff_ms = 1000 * (tonumber(headers["Retry-After"] or headers["retry-after"] or "1") or 1)
  end
end
request = function()
  i = i + 1
  local n = (i - 1) % #requests + 1
  if keys[n] ~= nil then sent[keys[n]] = now_ms() end
  return requests[n]
end
if rate > 0 then
  delay = function()
    local now = now_ms()
    if next_at == nil then next_at = now end
    next_at = next_at + 1000 / rate
    local wait = next_at - now
    if wait < 0 then return 0 end
    return wait
  end
else
  delay = function()
    local wait = backoff_ms
    backoff_ms = 0
    return wait
  end
end
done = function(summary, latency, requests_)
  local ok, shed, times = 0, 0, {}
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("ok_count")
    shed = shed + thread:get("shed_count")
    for _, ms in ipairs(thread:get("ok_ms")) do times[#times + 1] = ms end
  end
  table.sort(times)
  local ok_p99 = -1
  if #times > 0 then ok_p99 = times[math.max(1, math.ceil(#times * 0.99))] end
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %f, "p50": %f, "p99": %f, "max": %f, "errors": %d, "ok": %d, "shed": %d,'
    .. ' "ok_p99": %f}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errors, ok, shed, ok_p99))
end
"""


def _lua_string(data: str) -> str:
    """A quoted Lua string with escapes. Not a long bracket ``[==[...]==]``: Lua turns every CR LF inside one
    into a bare LF, which h11 tolerated but httptools (uvicorn's parser since it is installed) answers
    with 400, so every request would have measured the error path."""
    escaped = data.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n")
    return f'"{escaped}"'


def _http(path: str, body: bytes, headers: dict[str, str]) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return "\r\n".join(lines) + "\r\n\r\n" + body.decode()


def zendesk_requests(count: int) -> list[str]:
    # Each delivery is a new update of one of 500 tickets (its own ``updated_at``, as Zendesk sends):
    # the inbox dedupes on the signed content, so repeating a body would measure the duplicate path.
    start = datetime.now(UTC)
    out = []
    for n in range(count):
        stamp = (start + timedelta(microseconds=n)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        body = ZENDESK_BODY.format(ticket=4242 + n % 500, updated_at=stamp).encode()
        out.append(_http("/webhooks/zendesk", body, zendesk_headers(SECRET, body, invocation_id=uuid.uuid4().hex)))
    return out


def webchat_requests(count: int, texts: list[str]) -> list[str]:
    run = uuid.uuid4().hex[:8]
    out = []
    for n in range(count):
        text = texts[n % len(texts)]
        body = json.dumps(
            {"conversation_id": f"bench-{run}-{n}", "message_id": "m1", "role": "customer", "text": text}
        ).encode()
        out.append(_http("/v1/webchat/messages", body, {"content-type": "application/json"}))
    return out


def two_kb_messages() -> list[str]:
    """Every real message of the benchmark corpus of at least 1,900 characters, cut to 2,000 (43 of them:
    CFPB complaints). Several texts, not one, so per-word caches are not all warm from the first request."""
    texts = []
    for line in (ROOT / "bench/corpus/messages.jsonl").read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        if len(text) >= 1900:
            texts.append(text[:2000])
    if not texts:
        raise SystemExit("no 2 KB message in bench/corpus/messages.jsonl")
    return texts


def corpus_messages() -> list[str]:
    """Every message of the benchmark corpus in its order (1,000; median 56 characters, five languages):
    the real length mix, where most messages continue and a minority hand off."""
    lines = (ROOT / "bench/corpus/messages.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cores() -> tuple[str, str]:
    cores = sorted(os.sched_getaffinity(0))
    return str(cores[0]), str(cores[-1])


#: ``--shared-cores``: neither the servers nor wrk are pinned (the worker's decision processes may use the
#: second core, which wrk shares); default: the server on one core, wrk on the other.
SHARED: list[bool] = []


def _proc_children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (the worker's decision processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _cpu(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rollup(pid: int) -> dict[str, float]:
    """RSS, PSS and USS (private clean + dirty) of one process in MB, from /proc/PID/smaps_rollup."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        values[name] = int(rest.split()[0]) / 1024
    return {
        "rss": values.get("Rss", 0.0),
        "pss": values.get("Pss", 0.0),
        "uss": values.get("Private_Clean", 0.0) + values.get("Private_Dirty", 0.0),
    }


class Server:
    def __init__(self, kind: str, tmp: Path, root: Path = ROOT, extra_env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        module = tmp / "bench_app.py"
        module.write_text(APP.format(root=str(root), secret=SECRET), encoding="utf-8")
        # The server's own log goes to a file (as a deployment's would), not the terminal.
        self.log = (tmp / f"{kind}-server.log").open("ab")
        env = {
            **os.environ,
            "BENCH_KIND": "bare" if kind == "bare" else "worker",
            "BENCH_DB": str(tmp / f"{kind}-{uuid.uuid4().hex[:6]}.sqlite3"),
            "PYTHONPATH": str(tmp),
            "OPENBLAS_NUM_THREADS": "1",
            **(extra_env or {}),
        }
        self.db = Path(env["BENCH_DB"])
        server_core, _ = _cores()
        self.proc = subprocess.Popen(
            [*_nice(), *_pin(server_core), sys.executable, "-m", "uvicorn", "bench_app:app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--no-access-log"],
            env=env,
            cwd=tmp,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{kind} server did not start")

    def rss_mb(self) -> float:
        # taskset execs the interpreter, so the pid is the server's own
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def memory(self) -> dict[str, float]:
        """The server's RSS, and RSS, PSS and USS summed over the server and its decision processes (MB)."""
        own = _rollup(self.proc.pid)
        children = [_rollup(pid) for pid in _proc_children(self.proc.pid)]
        return {
            "mb": own["rss"],
            "children": len(children),
            "rss_all": own["rss"] + sum(c["rss"] for c in children),
            "pss_all": own["pss"] + sum(c["pss"] for c in children),
            "uss_all": own["uss"] + sum(c["uss"] for c in children),
            "pss_own": own["pss"],
        }

    def cpu_seconds(self) -> float:
        """User + system CPU time the server and its live decision processes have used (every thread)."""
        return sum(self.cpu_split().values())

    def cpu_split(self) -> dict[str, float]:
        """CPU seconds by where they went: the event loop's thread (the main thread), the server's other
        threads (decision and store threads), and its child processes (decision processes)."""
        pid = self.proc.pid
        loop = _cpu(Path(f"/proc/{pid}/task/{pid}/stat"))
        total = _cpu(Path(f"/proc/{pid}/stat"))
        children = 0.0
        for child in _proc_children(pid):
            try:
                children += _cpu(Path(f"/proc/{child}/stat"))
            except OSError:
                continue
        return {"loop": loop, "threads": total - loop, "children": children}

    def inbox_pending(self) -> int:
        """Deliveries acknowledged but not yet processed (0 for the bare app, which stores nothing, and under
        ``--ack-only``, where no processor runs to take them)."""
        if not self.db.exists() or os.environ.get("BENCH_PROCESSORS", "1") != "1":
            return 0
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10) as db:
            try:
                return int(db.execute("SELECT count(*) FROM inbox WHERE status = 'pending'").fetchone()[0])
            except sqlite3.OperationalError:  # no inbox table: not a worker
                return 0

    def drain(self, limit: float = 120.0) -> int:
        """Wait until the inbox has processed every acknowledged delivery (at most ``limit`` seconds);
        the deliveries still pending then."""
        deadline = time.monotonic() + limit
        while (pending := self.inbox_pending()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return pending

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def wrk(port: int, requests_file: Path, lua: Path, seconds: float, connections: int, rate: float) -> dict[str, float]:
    _, client_core = _cores()
    env = {**os.environ, "BENCH_REQUESTS": str(requests_file), "BENCH_RATE": str(rate)}
    out = subprocess.run(
        [*_nice(), *_pin(client_core), "wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s",
         "--timeout", "10s", "-s", str(lua), f"http://127.0.0.1:{port}"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCH "))
    data: dict[str, float] = json.loads(line[6:])
    # Throughput counts the answers that did the work (2xx), not refusals: a worker that sheds load must
    # not look faster for it.
    data["rps"] = data["ok"] / data["seconds"]
    return data


#: ``--nice N``: the servers and wrk run at this niceness (negative: ahead of the machine's other work).
NICE: list[int] = []


def _pin(core: str) -> list[str]:
    return [] if SHARED else ["taskset", "-c", core]


def _nice() -> list[str]:
    return ["nice", "-n", str(NICE[0])] if NICE else []


class ReadyzProbe:
    """``GET /readyz`` every 0.2 s from a thread while the paced load runs, as a load balancer would: how late
    the readiness answer is when the event loop is busy (the bare app answers 404, as fast as it can)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.times: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10) as client:
            while not self._stop.wait(0.2):
                started = time.perf_counter()
                try:
                    client.get("/readyz")
                except httpx.HTTPError:
                    continue
                self.times.append(1000 * (time.perf_counter() - started))

    def __enter__(self) -> ReadyzProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def p(self, q: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _write_requests(path: Path, requests: list[str]) -> None:
    path.write_text("return {\n" + ",\n".join(_lua_string(r) for r in requests) + "\n}\n", encoding="utf-8")


def run_once(
    tmp: Path,
    seconds: float,
    scenarios: dict[str, tuple[list[str], float]],
    servers: list[tuple[str, Path, dict[str, str]]],
) -> dict[str, dict[str, float]]:
    lua = tmp / "bench.lua"
    lua.write_text(LUA, encoding="utf-8")
    results: dict[str, dict[str, float]] = {}
    for kind, root, extra_env in servers:
        server = Server(kind, tmp, root, extra_env)
        try:
            for name, (requests, rate) in scenarios.items():
                file = tmp / f"{name}.lua"
                _write_requests(file, requests)
                wrk(server.port, file, lua, 2, 8, 0)  # warm-up
                _write_requests(file, requests[::-1])
                server.drain()  # the warm-up's deliveries processed: the runs start from an empty inbox
                split = server.cpu_split()
                start = sum(split.values())
                top = wrk(server.port, file, lua, seconds, 32, 0)
                after = server.cpu_split()
                cpu = sum(after.values()) - start
                # Acknowledged but not yet processed: the inbox gives way to acknowledgements under load
                # and works through them after the burst. Its CPU until the inbox is empty again is part of
                # what each delivery costs, so it is counted in ``cpu_all_ms`` (the server is otherwise idle).
                backlog = server.inbox_pending()
                left = server.drain()
                cpu_all = server.cpu_seconds() - start
                with ReadyzProbe(server.port) as probe:
                    paced = wrk(server.port, file, lua, seconds, 64, rate)
                results[f"{kind}:{name}"] = {
                    "rps": top["rps"],
                    # per answer that did the work: the cost of any refusals is charged to the served ones
                    "cpu_ms": 1000 * cpu / max(top["ok"], 1),
                    "cpu_all_ms": 1000 * cpu_all / max(top["ok"], 1),
                    **{f"cpu_{k}_ms": 1000 * (after[k] - split[k]) / max(top["ok"], 1) for k in split},
                    "backlog": backlog,
                    "undrained": left,
                    "errors": top["errors"] + paced["errors"],
                    "offered": rate,
                    "served": paced["rps"],
                    # answered 2xx / 503 per second at the offered rate (503: shed, or over the budget)
                    "ok": paced["ok"] / paced["seconds"],
                    "shed": paced["shed"] / paced["seconds"],
                    "p50": paced["p50"],
                    "p99": paced["p99"],
                    # p99 of the 2xx answers alone where requests can be paired with answers (web chat);
                    # otherwise every answer's, which is the same thing when nothing was refused
                    "ok_p99": paced["ok_p99"] if paced["ok_p99"] >= 0 else paced["p99"],
                    "readyz_p50": probe.p(0.5),
                    "readyz_max": probe.p(1.0),
                }
            results[f"{kind}:rss"] = server.memory()
        finally:
            server.stop()
    return results


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--zendesk-rate", type=float, default=500.0)
    parser.add_argument("--webchat-rate", type=float, default=200.0)
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit, measured in the same runs")
    parser.add_argument(
        "--ack-only",
        action="store_true",
        help="worker without its inbox/outbox processors: the request path alone (default: as deployed)",
    )
    parser.add_argument(
        "--scenarios",
        default="zendesk,webchat_2kb",
        help="comma-separated subset of zendesk, webchat_2kb and webchat_mix (every corpus message in turn)",
    )
    parser.add_argument(
        "--shared-cores",
        action="store_true",
        help="pin nothing: the worker's decision processes may use the second core (which wrk shares); default:"
        " the server on one core, wrk on the other (the worker then decides in threads: one usable core)",
    )
    parser.add_argument(
        "--threads-too",
        action="store_true",
        help="also measure this checkout with DECISION_PROCESSES=0 (decisions in threads) in the same runs",
    )
    parser.add_argument(
        "--nice",
        type=int,
        help="run the servers and wrk under `nice -n N` (root may pass a negative N: a quieter share of a shared"
        " machine; say so next to the figures)",
    )
    args = parser.parse_args()
    if args.nice is not None:
        NICE.append(args.nice)
    if args.ack_only:
        os.environ["BENCH_PROCESSORS"] = "0"
    if args.shared_cores:
        SHARED.append(True)
    wanted = args.scenarios.split(",")
    kinds = ["worker", *(["threads"] if args.threads_too else []), *(["baseline"] if args.baseline else [])]
    roots = {"worker": ROOT, "threads": ROOT, "baseline": args.baseline}
    envs = {"threads": {"DECISION_PROCESSES": "0"}}
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average at start: {_load()}")
    texts = two_kb_messages()
    runs = []
    for n in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            # Enough distinct requests that wrk never repeats one within a run (duplicates are cheaper).
            zendesk = zendesk_requests(int(max(3_000, 4_000 * args.seconds)))
            webchat = webchat_requests(int(max(2_000, 1_500 * args.seconds)), texts)
            mix = webchat_requests(int(max(2_000, 1_500 * args.seconds)), corpus_messages())
            scenarios = {
                "zendesk": (zendesk, args.zendesk_rate),
                "webchat_2kb": (webchat, args.webchat_rate),
                "webchat_mix": (mix, args.webchat_rate),
            }
            scenarios = {name: scenario for name, scenario in scenarios.items() if name in wanted}
            # Alternate the order of the servers (bare included), so none always meets a warmer or quieter
            # machine.
            servers = [("bare", ROOT, {}), *((kind, roots[kind], envs.get(kind, {})) for kind in kinds)]
            servers = servers if n % 2 == 0 else servers[::-1]
            runs.append(run_once(tmp, args.seconds, scenarios, servers))
        print(f"run {n + 1}/{args.repeat} done (load average {_load()})", file=sys.stderr)

    def med(key: str, field: str) -> float:
        return statistics.median(r[key][field] for r in runs)

    def med_ratio(kind: str, name: str) -> float:
        return statistics.median(r[f"{kind}:{name}"]["rps"] / r[f"bare:{name}"]["rps"] for r in runs)

    print(
        f"wrk -t1, server and wrk on separate cores; medians of {args.repeat} runs (server order alternates);"
        f" load average at the end: {_load()}"
    )
    print(
        f"{'endpoint':<34}{'req/s (c32)':>12}{'CPU ms/req':>11}{'+inbox':>8}{'offered':>9}{'served':>9}{'2xx/s':>8}"
        f"{'503/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'2xx p99':>9}{'errors':>8}"
    )
    labels = {
        "zendesk": "Zendesk webhook ack",
        "webchat_2kb": "web chat, 2 KB message",
        "webchat_mix": "web chat, corpus mix",
    }
    for name, label in ((name, labels[name]) for name in labels if name in wanted):
        for kind in ("bare", *kinds):
            key = f"{kind}:{name}"
            print(
                f"{kind + ' ' + label:<34}{med(key, 'rps'):>12,.0f}{med(key, 'cpu_ms'):>11.2f}"
                f"{med(key, 'cpu_all_ms'):>8.2f}{med(key, 'offered'):>9.0f}{med(key, 'served'):>9.0f}"
                f"{med(key, 'ok'):>8.0f}{med(key, 'shed'):>8.0f}"
                f"{med(key, 'p50'):>9.2f}"
                f"{med(key, 'p99'):>9.2f}{med(key, 'ok_p99'):>9.2f}{med(key, 'errors'):>8.0f}"
            )
        for kind in kinds:
            key = f"{kind}:{name}"
            if name == "zendesk" and any(r[key]["backlog"] for r in runs):
                print(
                    f"  {kind}: inbox backlog after the closed-loop run (acknowledged, processed after the burst):"
                    f" {', '.join(str(r[key]['backlog']) for r in runs)}; still pending after 120 s:"
                    f" {', '.join(str(r[key]['undrained']) for r in runs)}"
                )
            ratios = [r[f"{kind}:{name}"]["rps"] / r[f"bare:{name}"]["rps"] for r in runs]
            each = ", ".join(f"{x:.3f}" for x in ratios)
            print(f"  {kind}/bare throughput, {label}: {statistics.median(ratios):.3f}x (runs: {each})")
        for kind in kinds if name in TARGETS else ():  # the corpus mix has no target of its own
            key = f"{kind}:{name}"
            ratio, p99, limit = med_ratio(kind, name), med(key, "ok_p99"), TARGETS[name]
            fast, quick = ("met" if ratio >= limit[0] else "NOT met"), ("met" if p99 <= limit[1] else "NOT met")
            print(
                f"  target {name}: >= {limit[0]}x bare: {fast} ({ratio:.3f}x);"
                f" p99 <= {limit[1]:.0f} ms at {med(key, 'offered'):.0f}/s offered: {quick}"
                f" ({p99:.1f} ms over the 2xx answers; {med(key, 'ok'):.0f}/s answered 2xx,"
                f" {med(key, 'shed'):.0f}/s 503; bare p99 {med(f'bare:{name}', 'p99'):.1f} ms)"
            )
        if args.baseline:
            change = statistics.median(
                (r[f"worker:{name}"]["rps"] / r[f"bare:{name}"]["rps"])
                / (r[f"baseline:{name}"]["rps"] / r[f"bare:{name}"]["rps"])
                for r in runs
            )
            print(f"  worker vs baseline, as ratios to bare in the same run: {change - 1:+.1%} (median of runs)")
    print("CPU ms per 2xx answer by where it went (medians): event-loop thread / other threads / decision processes")
    for name in (name for name in labels if name in wanted):
        for kind in ("bare", *kinds):
            key = f"{kind}:{name}"
            print(
                f"  {kind + ' ' + labels[name]:<34}{med(key, 'cpu_loop_ms'):>8.2f}{med(key, 'cpu_threads_ms'):>8.2f}"
                f"{med(key, 'cpu_children_ms'):>8.2f}"
            )
    print("GET /readyz every 0.2 s during the paced run (ms, medians of runs; bare: its 404): p50 / max")
    for name in (name for name in labels if name in wanted):
        for kind in ("bare", *kinds):
            key = f"{kind}:{name}"
            print(f"  {kind + ' ' + labels[name]:<34}{med(key, 'readyz_p50'):>8.2f}{med(key, 'readyz_max'):>9.2f}")
    print("memory after the load (MB, medians): server RSS; server + decision processes: RSS, PSS, USS")
    for kind in ("bare", *kinds):
        key = f"{kind}:rss"
        print(
            f"  {kind:<10} RSS {med(key, 'mb'):>6.0f}   with {med(key, 'children'):.0f} children: RSS"
            f" {med(key, 'rss_all'):>6.0f}  PSS {med(key, 'pss_all'):>6.0f}  USS {med(key, 'uss_all'):>6.0f}"
        )


if __name__ == "__main__":
    main()
