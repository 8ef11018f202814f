"""Eight planners upload 100k-zone layers as drafts at once, to a real ``zonemap serve`` on
127.0.0.1, while another client keeps calling ``/healthz`` and ``GET /api/v1/route``.

It prints how long each upload took to answer and to be processed, the latencies of the other
client during the uploads (p50, p99, max), and the serving process's growth in resident memory
(``VmRSS`` before and after, and its high-water mark ``VmHWM``). A draft processed in a worker
process counts in that process, not in the server's.

The baseline, in the same run: ``--baseline DIR`` runs the same load against the service of
another checkout (an earlier commit, say, with ``git worktree add DIR COMMIT``), whose code is put
first on the path of its server.

    python bench/upload_bench.py [--zones 100000] [--uploads 8] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from service_bench import free_port, wait_healthy  # bench/ is on the path when a bench script runs
from sqlalchemy.orm import Session

from api.auth.callers import create_token
from geodata.demo import write_demo
from geodata.demo.generate import load_district
from geodata.demo.synthetic import synthetic_zones
from geodata.io import write_layer

ZONEMAP = str(Path(sys.executable).parent / "zonemap")
BOUNDARY = "zonemap-bench"


def memory(pid: int) -> dict[str, int]:
    """Resident size now and at its highest (MiB) of a process."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {key: int(fields[key].split()[0]) // 1024 for key in ("VmRSS", "VmHWM")}


def multipart(files: dict[str, tuple[str, bytes]]) -> bytes:
    """A multipart body with ``files`` (field: (file name, bytes))."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
             + data + b"\r\n" for field, (name, data) in files.items()]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def send(method: str, url: str, token: str, body: bytes | None = None, timeout: float = 600) -> tuple[int, dict, dict]:
    """Status, JSON answer and headers of one call."""
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = f"multipart/form-data; boundary={BOUNDARY}"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read() or b"{}"), dict(answer.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}"), dict(err.headers)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def run(label: str, source: Path | None, folder: Path, upload: bytes, uploads: int) -> None:
    """Start a server (of ``source`` when given), load it, print what was measured."""
    demo = write_demo(folder / "demo")
    port = free_port()
    url = f"sqlite:///{folder / 'zonemap.sqlite'}"
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo.root), "DATABASE_URL": url, "ZONEMAP_DATA_DIR": str(folder),
           "ZONEMAP_MAX_LAYER_UPLOAD": str(1 << 30)}
    if source is not None:
        env["PYTHONPATH"] = f"{source}{os.pathsep}{env.get('PYTHONPATH', '')}"
    server = subprocess.Popen([ZONEMAP, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=(folder / "server.log").open("w"),
                              start_new_session=True, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, 180)
        engine = sa.create_engine(url)
        with Session(engine) as session, session.begin():
            planner, reader = create_token(session, "planner"), create_token(session, "dispatcher")
        engine.dispose()
        latencies: dict[str, list[float]] = {"/healthz": [], "GET /api/v1/route": []}
        stop = threading.Event()

        def other_client() -> None:
            while not stop.is_set():
                for name, path in (("/healthz", "/healthz"), ("GET /api/v1/route", "/api/v1/route?lon=120.3852&lat=36.3055&category=litter")):
                    started = time.perf_counter()
                    send("GET", base + path, reader, timeout=120)
                    latencies[name].append((time.perf_counter() - started) * 1000)
                time.sleep(0.02)

        def phase(what: str, work: Callable[[int], None]) -> None:
            """Run ``work`` for every planner at once while the other client calls; print what was measured."""
            for kept in latencies.values():
                kept.clear()
            stop.clear()
            watcher = threading.Thread(target=other_client)
            watcher.start()
            time.sleep(1)
            before = memory(server.pid)
            started = time.perf_counter()
            planners = [threading.Thread(target=work, args=(index,)) for index in range(uploads)]
            for thread in planners:
                thread.start()
            peak = before["VmRSS"]
            while any(thread.is_alive() for thread in planners):
                peak = max(peak, memory(server.pid)["VmRSS"])
                time.sleep(0.2)
            took = time.perf_counter() - started
            stop.set()
            watcher.join()
            after = memory(server.pid)
            print(f"  {what}: {took:.1f} s")
            for name, values in latencies.items():
                p50, p99 = statistics.median(values), percentile(values, 0.99)
                print(f"    {name:18} {len(values):5} calls: p50 {p50:7.1f} ms, p99 {p99:8.1f} ms, max {max(values):8.1f} ms")
            print(f"    server resident: {before['VmRSS']:,} -> {after['VmRSS']:,} MiB, highest seen {peak:,} MiB: grew {peak - before['VmRSS']:,} MiB")

        drafts: dict[int, str] = {}
        results: list[tuple[int, float, float, str]] = []

        def planner_uploads(index: int) -> None:
            started = time.perf_counter()
            status, answer, headers = send("POST", base + "/api/v1/layers/drafts", planner, upload)
            answered = time.perf_counter() - started
            state = answer.get("state", str(status))
            while status == 202 and state in ("queued", "processing"):
                time.sleep(0.5)
                state = send("GET", base + headers["Location"] + "?comparison=false", planner)[1]["state"]
            if state == "open":
                drafts[index] = headers.get("Location") or f"/api/v1/layers/drafts/{answer['id']}"  # an earlier service answered 201 without it
            results.append((status, answered, time.perf_counter() - started, state))

        def planner_compares(index: int) -> None:
            if index in drafts:
                started = time.perf_counter()
                status, _, headers = send("GET", base + drafts[index], planner)
                while status == 503:  # being compared: asked again when the answer says
                    time.sleep(float(headers.get("Retry-After", 1)))
                    status, _, headers = send("GET", base + drafts[index], planner)
                print(f"    comparison of {drafts[index]}: {status} in {time.perf_counter() - started:.1f} s")

        print(f"\n{label}: {uploads} planners, each uploading {len(upload) / (1 << 20):.1f} MiB")
        phase("the uploads, until every draft is processed (the planners poll with comparison=false)", planner_uploads)
        for status, answered, done, state in sorted(results, key=lambda r: r[2]):
            print(f"    answered {status} in {answered:6.2f} s, {state} after {done:6.1f} s")
        phase("then every planner opens its draft's comparison at once", planner_compares)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", type=int, default=100_000)
    parser.add_argument("--uploads", type=int, default=8)
    parser.add_argument("--baseline", type=Path, help="a checkout whose service is measured first, the same way")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zonemap-upload-bench-") as tmp:
        folder = Path(tmp)
        zones = synthetic_zones(args.zones, load_district().geometry.union_all(), seed=1)
        write_layer(zones, folder / "zones.gpkg", layer="zones")
        units = pd.DataFrame({"unit_id": sorted(zones["unit_id"].unique())})
        units["unit_name"] = "单位 " + units["unit_id"]
        upload = multipart({"zones": ("责任区.gpkg", (folder / "zones.gpkg").read_bytes()), "units": ("单位.csv", units.to_csv(index=False).encode())})
        print(f"layer: {len(zones):,} zones, {len(units):,} units")
        if args.baseline is not None:
            (folder / "baseline").mkdir()
            run(f"baseline ({args.baseline})", args.baseline.resolve(), folder / "baseline", upload, args.uploads)
        (folder / "this").mkdir()
        run("this checkout", None, folder / "this", upload, args.uploads)


if __name__ == "__main__":
    main()
