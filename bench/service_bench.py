"""Service throughput: POST /api/v1/reports and GET /api/v1/route under gunicorn (2 and 4
workers, SQLite and PostgreSQL) against the cheapest endpoint of the same server (``/healthz``:
no database, no routing), with a bounded load generator on 127.0.0.1.

Prints requests/s, p50 and p99 latency per endpoint and the ratio to /healthz, per setup.

    python bench/service_bench.py [--seconds 10] [--clients 16] [--workers 2,4] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.auth.callers import create_token
from geodata.demo import write_demo

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, timeout_s: float) -> None:
    """Until the server at ``base`` answers ``/healthz``; the last connection error after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def request(method: str, url: str, body: dict | None, token: str | None, extra: dict[str, str] | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {}), **(extra or {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def load(make: callable, clients: int, seconds: float) -> tuple[float, float, float, int]:
    """Requests/s, p50 ms, p99 ms and failures of ``clients`` threads calling ``make()`` for ``seconds``."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        rng = random.Random(k)
        mine, bad = [], 0
        while time.monotonic() < stop:
            method, url, body, token, extra = make(rng)
            t = time.perf_counter()
            status = request(method, url, body, token, extra)
            mine.append(time.perf_counter() - t)
            bad += status >= 400
        with lock:
            latencies.extend(mine)
            failures[0] += bad

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, latencies[int(len(latencies) * 0.99)] * 1000, failures[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", default="2,4")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="zonemap-service-bench-"))
    demo = write_demo(root / "demo")
    points = [(120.40 + random.Random(k).uniform(-0.05, 0.05), 36.30 + random.Random(-k).uniform(-0.05, 0.05)) for k in range(1000)]
    print(f"{args.clients} clients, {args.seconds:g} s per endpoint; the baseline is /healthz on the same server")
    print(f"{'database':<11}{'workers':>8}  {'endpoint':<20}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'vs no-op':>9}{'errors':>8}")
    try:
        for database in args.databases.split(","):
            for workers in (int(w) for w in args.workers.split(",")):
                data = root / f"{database}-{workers}"
                data.mkdir()
                schema = f"bench_{uuid.uuid4().hex[:8]}"
                if database == "sqlite":
                    url = f"sqlite:///{data / 'zonemap.sqlite'}"
                else:
                    engine = sa.create_engine(POSTGRES)
                    with engine.begin() as conn:
                        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
                    engine.dispose()
                    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
                port = free_port()
                env = {**os.environ, "DATABASE_URL": url, "ZONEMAP_DATA_DIR": str(data), "ZONEMAP_LAYER_DIR": str(demo.root),
                       "ZONEMAP_PUBLIC_SUBMIT_LIMIT": "1000000 per minute"}
                server = subprocess.Popen([GUNICORN, "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "api:create_app()"],
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
                base = f"http://127.0.0.1:{port}"
                try:
                    for _ in range(600):
                        try:
                            if request("GET", base + "/healthz", None, None) == 200:
                                break
                        except OSError:
                            time.sleep(0.2)
                    engine = sa.create_engine(url)
                    with Session(engine) as session, session.begin():
                        token = create_token(session, "dispatcher")
                    engine.dispose()
                    endpoints = {
                        "GET /healthz": lambda _rng: ("GET", base + "/healthz", None, None, None),
                        "GET /api/v1/route": lambda rng: ("GET", "{}/api/v1/route?lon={}&lat={}&category=litter".format(base, *rng.choice(points)),
                                                          None, token, None),
                        # as the phone app submits: with an idempotency key, so that a retry cannot file the report twice
                        "POST /api/v1/reports": lambda rng: ("POST", base + "/api/v1/reports",
                                                             dict(zip(("lon", "lat"), rng.choice(points), strict=True), category="litter", accuracy_m=5),
                                                             token, {"Idempotency-Key": uuid.uuid4().hex}),
                    }
                    for make in endpoints.values():  # every worker warm: layer indexes built, numba kernels compiled
                        load(make, args.clients, 3)
                    ceiling = None
                    for name, make in endpoints.items():
                        rate, p50, p99, failures = load(make, args.clients, args.seconds)
                        ceiling = ceiling or rate
                        print(f"{database:<11}{workers:>8}  {name:<20}{rate:>8.0f}{p50:>8.1f}{p99:>8.1f}{rate / ceiling:>8.0%}{failures:>8}", flush=True)
                finally:
                    os.killpg(server.pid, signal.SIGTERM)
                    server.wait(30)
                    if database == "postgresql":
                        engine = sa.create_engine(POSTGRES)
                        with engine.begin() as conn:
                            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
                        engine.dispose()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
