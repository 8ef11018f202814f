"""Service throughput: ``/healthz``, ``GET /api/v1/route`` and ``POST /api/v1/reports`` against a
plain Flask endpoint (``{"ok": true}``, nothing else) served the same way, in the same run.

Load comes from ``wrk`` (``wrk -t2 -c8`` by default) on 127.0.0.1; a Lua script gives every POST
its own ``Idempotency-Key``, so each one files a report and commits it. Each server is measured
``--repeat`` times, the plain endpoint and zonemap's endpoints interleaved, once every server's
processes have settled (their start-up work done), and the medians are printed: requests/s, p50
and p99 latency, the ratio to the plain endpoint, the CPU time the server's processes spent per
request (``CPU ms``: its workers and master, read from ``/proc``), and the answers that were not
2xx (or failed to connect).

Servers: ``gunicorn`` (``--config python:api.web.serving`` with ``--workers``, as the README runs
it) and ``serve`` (``zonemap serve`` with its defaults against the plain app on the same waitress
setup, `api.web.serving.serve_one`). The baseline, in the same run: ``--baseline DIR`` measures
the service of another checkout too (an untouched copy of an earlier commit), its code first on
the path of its server.

    python bench/service_bench.py [--seconds 10] [--repeat 3] [--connections 8] [--workers 2]
        [--databases sqlite,postgresql] [--servers gunicorn,serve] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from api.auth.callers import create_token
from geodata.demo import write_demo

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BIN = Path(sys.executable).parent
BENCH = Path(__file__).resolve().parent
#: Positions the load draws from: the middle of the demo district, some in zones, some not.
AREA = (120.35, 36.25, 120.45, 36.35)

#: What is measured: method, target ({lon} and {lat} drawn for each request), whether with a token.
ENDPOINTS = {"GET /healthz": ("GET", "/healthz", False), "GET /api/v1/route": ("GET", "/api/v1/route?lon={lon}&lat={lat}&category=litter", True),
             "POST /api/v1/reports": ("POST", "/api/v1/reports", True)}

#: One wrk script for every endpoint: METHOD, TARGET and TOKEN from the environment; a POST files
#: a report at a random position with a key of its own; ``done`` prints the figures as JSON.
WRK_SCRIPT = """
local method, target, token = os.getenv("BENCH_METHOD"), os.getenv("BENCH_TARGET"), os.getenv("BENCH_TOKEN")
local west, south, east, north = {AREA}
local threads, counter = {}, 0
local headers = {["Content-Type"] = "application/json"}
if token ~= "" then headers["Authorization"] = "Bearer " .. token end

function setup(thread)
  thread:set("prefix", string.format("%s-%d", os.getenv("BENCH_RUN"), #threads))
  table.insert(threads, thread)
end

function init(args)  -- prefix: set by setup, a global of this thread's state
  math.randomseed(os.time() * 31 + string.byte(prefix, -1))
end

local function position()
  return west + math.random() * (east - west), south + math.random() * (north - south)
end

function request()
  counter = counter + 1
  local lon, lat = position()
  if method == "POST" then
    headers["Idempotency-Key"] = prefix .. "-" .. counter
    local body = string.format('{"lon": %.6f, "lat": %.6f, "category": "litter", "accuracy_m": 5}', lon, lat)
    return wrk.format("POST", target, headers, body)
  end
  local path = target:gsub("{lon}", string.format("%.6f", lon)):gsub("{lat}", string.format("%.6f", lat))
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\nRESULT {"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, "failed": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def plain_app() -> Flask:
    """The yardstick: a Flask app answering ``{"ok": true}`` and nothing else."""
    app = Flask("plain")

    @app.get("/ok")
    def ok() -> ResponseReturnValue:
        return jsonify({"ok": True})

    return app


def serve_plain(port: int) -> None:
    """Serve `plain_app` as ``zonemap serve`` serves zonemap (waitress, its defaults)."""
    from api.web.serving import serve_one

    serve_one(plain_app(), "127.0.0.1", port, 8, max_body_bytes=1 << 20)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, timeout_s: float, path: str = "/healthz") -> None:
    """Until the server at ``base`` answers ``path``; the last connection error after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(base + path, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def cpu_seconds(group: int) -> float:
    """CPU time (user and system) used so far by the live processes of process group ``group``."""
    total, tick = 0, os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except (OSError, ValueError):
            continue
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def wait_settled(group: int, timeout_s: float) -> None:
    """Until a started server's processes are nearly idle (under 3 % of a core over a second):
    each worker's start-up work (coverage, the layer's download file) must not share the measurement."""
    deadline = time.monotonic() + timeout_s
    used = cpu_seconds(group)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = cpu_seconds(group)
        if now - used < 0.03:
            return
        used = now


@dataclass
class Figures:
    """What one wrk run measured."""

    rate: float
    p50_ms: float
    p99_ms: float
    failed: int
    cpu_ms: float  # the server's processes' CPU time per request (user and system), NaN when not counted


def wrk(base: str, method: str, target: str, token: str, *, seconds: float, threads: int, connections: int, script: Path,
        group: int | None = None) -> Figures:
    """Load ``base`` with wrk for ``seconds``; its figures, with the CPU time the server's process
    ``group`` spent per request when given."""
    used = cpu_seconds(group) if group is not None else math.nan
    env = {**os.environ, "BENCH_METHOD": method, "BENCH_TARGET": target, "BENCH_TOKEN": token, "BENCH_RUN": uuid.uuid4().hex[:12]}
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s", "-s", str(script), base],
                         env=env, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT ")).removeprefix("RESULT "))
    cpu_ms = (cpu_seconds(group) - used) * 1000 / max(result["requests"], 1) if group is not None else math.nan
    return Figures(result["requests"] / result["seconds"], result["p50_us"] / 1000, result["p99_us"] / 1000, result["failed"], cpu_ms)


@dataclass
class Setup:
    """A database to serve from, made for the run and dropped after it."""

    name: str
    url: str
    folder: Path
    schema: str | None = None


@contextmanager
def database(name: str, folder: Path) -> Iterator[Setup]:
    """A fresh SQLite file or PostgreSQL schema."""
    folder.mkdir(parents=True)
    if name == "sqlite":
        yield Setup(name, f"sqlite:///{folder / 'zonemap.sqlite'}", folder)
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(POSTGRES)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield Setup(name, f"{POSTGRES}?options=-csearch_path%3D{schema}", folder, schema)
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


@contextmanager
def server(command: list[str], env: dict[str, str], log: Path, ready: str) -> Iterator[tuple[str, int]]:
    """A server started with ``command`` on a free port (``{port}`` in it): its base URL once
    ``ready`` answers, and its process group."""
    port = free_port()
    process = subprocess.Popen([part.replace("{port}", str(port)) for part in command], env=env, stdout=subprocess.DEVNULL,
                               stderr=log.open("w"), start_new_session=True, cwd=log.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, 300, ready)
        wait_settled(process.pid, 180)
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)


def commands(kind: str, workers: int) -> tuple[list[str], list[str]]:
    """How zonemap and the plain app are started on one kind of server."""
    if kind == "gunicorn":
        same = [str(BIN / "gunicorn"), "--config", "python:api.web.serving", "--workers", str(workers), "--bind", "127.0.0.1:{port}"]
        return [*same, "api:create_app()"], [*same, "--pythonpath", str(BENCH), "service_bench:plain_app()"]
    return [str(BIN / "zonemap"), "serve", "--port", "{port}"], [sys.executable, str(Path(__file__).resolve()), "--plain-port", "{port}"]


def warm(base: str, method: str, target: str, token: str, load: dict) -> None:
    """Load an endpoint until every worker answers it at once (indexes built, kernels compiled on
    a first start, connections open): two seconds with a p99 under one."""
    for _ in range(60):
        figures = wrk(base, method, target, token, **{**load, "seconds": 2})
        if figures.rate and figures.p99_ms < 1000:
            return
    msg = f"{base}{target} is not answering steadily"
    raise RuntimeError(msg)


def measure(plain: tuple[str, int], bases: dict[str, tuple[str, int, str]], repeat: int, load: dict) -> dict[tuple[str, str], list[Figures]]:
    """Every endpoint of every server (base URL, process group, token) ``repeat`` times, each
    zonemap run after a plain one."""
    for base, _, token in bases.values():
        for method, target, auth in ENDPOINTS.values():
            warm(base, method, target, token if auth else "", load)
    warm(plain[0], "GET", "/ok", "", load)
    runs: dict[tuple[str, str], list[Figures]] = {}
    for _ in range(repeat):
        for label, (method, target, auth) in ENDPOINTS.items():
            runs.setdefault(("plain", "GET /ok"), []).append(wrk(plain[0], "GET", "/ok", "", **load, group=plain[1]))
            for code, (base, group, token) in bases.items():
                runs.setdefault((code, label), []).append(wrk(base, method, target, token if auth else "", **load, group=group))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="one wrk run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per endpoint and server; medians are printed")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn's workers")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--servers", default="gunicorn,serve")
    parser.add_argument("--baseline", type=Path, help="a checkout whose service is measured too, in the same run")
    parser.add_argument("--plain-port", type=int, help=argparse.SUPPRESS)  # the plain app on waitress, started by this script
    args = parser.parse_args()
    if args.plain_port:
        serve_plain(args.plain_port)
        return
    root = Path(tempfile.mkdtemp(prefix="zonemap-service-bench-"))
    script = root / "bench.lua"
    script.write_text(WRK_SCRIPT.replace("{AREA}", ", ".join(map(str, AREA))))
    demo = write_demo(root / "demo")
    checkouts = {"this": None} if args.baseline is None else {"baseline": args.baseline.resolve(), "this": None}
    load = {"seconds": args.seconds, "threads": args.threads, "connections": args.connections, "script": script}
    print(f"wrk -t{args.threads} -c{args.connections}, {args.seconds:g} s per run, median of {args.repeat} interleaved runs; "
          f"plain = Flask answering {{\"ok\": true}} on the same server setup; gunicorn: {args.workers} workers; failed = not 2xx or no answer")
    print(f"{'server':<9}{'database':<11}{'code':<9}{'endpoint':<22}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'vs plain':>9}{'CPU ms':>8}{'failed':>8}")
    try:
        for kind in args.servers.split(","):
            zonemap_command, plain_command = commands(kind, args.workers)
            for name in args.databases.split(","):
                folder = root / f"{kind}-{name}"
                folder.mkdir()
                with server(plain_command, dict(os.environ), folder / "plain.log", "/ok") as plain, \
                        zonemaps(checkouts, zonemap_command, name, folder, demo.root) as bases:
                    runs = measure(plain, bases, args.repeat, load)
                plain_rate = statistics.median(f.rate for f in runs[("plain", "GET /ok")])
                for (code, label), figures in runs.items():
                    rate = statistics.median(f.rate for f in figures)
                    print(f"{kind:<9}{name:<11}{code:<9}{label:<22}{rate:>8.0f}{statistics.median(f.p50_ms for f in figures):>8.2f}"
                          f"{statistics.median(f.p99_ms for f in figures):>8.2f}{rate / plain_rate:>9.0%}{statistics.median(f.cpu_ms for f in figures):>8.2f}"
                          f"{sum(f.failed for f in figures):>8}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def zonemaps(checkouts: dict[str, Path | None], command: list[str], name: str, folder: Path, layer_dir: Path) -> Iterator[dict[str, tuple[str, int, str]]]:
    """A zonemap server per checkout, each on a fresh database of kind ``name``: its base URL,
    process group and a dispatcher's token."""
    with ExitStack() as stack:
        started: dict[str, tuple[str, int, str]] = {}
        for code, source in checkouts.items():
            db = stack.enter_context(database(name, folder / code))
            env = {**os.environ, "DATABASE_URL": db.url, "ZONEMAP_DATA_DIR": str(db.folder), "ZONEMAP_LAYER_DIR": str(layer_dir)}
            if source is not None:
                env["PYTHONPATH"] = f"{source}{os.pathsep}{env.get('PYTHONPATH', '')}"
            base, group = stack.enter_context(server(command, env, db.folder / "server.log", "/healthz"))
            engine = sa.create_engine(db.url)
            with Session(engine) as session, session.begin():
                started[code] = (base, group, create_token(session, "dispatcher"))
            engine.dispose()
        yield started


if __name__ == "__main__":
    main()
