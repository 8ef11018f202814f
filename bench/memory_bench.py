"""Memory of a service worker holding a zone layer: the demo layer (7k zones) and generated
10k- and 100k-zone layers, each served by a real gunicorn worker on 127.0.0.1.

For each layer it starts ``gunicorn --workers 1`` with ``ZONEMAP_LAYER_DIR`` pointing at the
layer, waits for ``/healthz``, then routes and submits reports until every lazily built index
is in memory, and reads the worker's ``/proc/<pid>/status``: resident size now (``VmRSS``) and
its high-water mark (``VmHWM``, which includes loading and validating the layer). The baseline,
in the same run, is the same worker on the demo layer.

    python bench/memory_bench.py [--layers demo,10000,100000] [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from service_bench import free_port  # bench/ is on the path when a bench script runs
from sqlalchemy.orm import Session

from api.auth.callers import create_token
from geodata.demo import DemoFiles, write_demo
from geodata.demo.generate import load_district
from geodata.demo.synthetic import synthetic_zones
from geodata.io import write_layer

GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def call(method: str, url: str, body: dict | None = None, token: str | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=60) as response:
        return json.loads(response.read())


def status_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of ``pid`` in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def layer_folder(root: Path, demo_root: Path, zones: int | None) -> Path:
    """A demo-style folder: the demo's files, with ``zones`` generated zones instead of the
    demo's when given (their owners are not in the demo's unit list, so that is left out)."""
    if zones is None:
        return demo_root
    folder = root / f"zones-{zones}"
    shutil.copytree(demo_root, folder)
    (folder / "units.csv").unlink(missing_ok=True)
    write_layer(synthetic_zones(zones, load_district().geometry.union_all(), seed=1), DemoFiles(folder).gpkg, layer="zones")
    return folder


def measure(folder: Path, data: Path, requests: int) -> dict[str, float]:
    """Start one worker on ``folder``, exercise it, and read its memory."""
    data.mkdir()
    port = free_port()
    env = {**os.environ, "ZONEMAP_DATA_DIR": str(data), "ZONEMAP_LAYER_DIR": str(folder), "DATABASE_URL": f"sqlite:///{data / 'zonemap.sqlite'}",
           "ZONEMAP_PUBLIC_SUBMIT_LIMIT": "1000000 per minute"}
    server = subprocess.Popen([GUNICORN, "--workers", "1", "--bind", f"127.0.0.1:{port}", "--timeout", "600", "api:create_app()"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while True:
            try:
                health = call("GET", base + "/healthz")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() - started > 600:
                    raise RuntimeError(f"the server on {folder} did not start") from None
                time.sleep(0.5)
        start_s = time.monotonic() - started
        worker = health["worker"]
        at_start = status_mb(worker)
        engine = sa.create_engine(env["DATABASE_URL"])
        with Session(engine) as session, session.begin():
            token = create_token(session, "dispatcher")
        engine.dispose()
        rng = random.Random(1)
        for k in range(requests):
            lon, lat = 120.40 + rng.uniform(-0.08, 0.08), 36.30 + rng.uniform(-0.08, 0.08)
            if k % 2:
                call("POST", base + "/api/v1/reports", {"lon": lon, "lat": lat, "category": rng.choice(["litter", "illegal_parking"]), "accuracy_m": 20}, token)
            else:
                call("GET", f"{base}/api/v1/route?lon={lon}&lat={lat}&category=litter&accuracy_m=20", token=token)
        return {"zones": health["zones"], "start_s": start_s, "start_mb": at_start["VmRSS"], **status_mb(worker),
                "master_mb": status_mb(server.pid)["VmRSS"]}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="demo,10000,100000")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="zonemap-memory-bench-"))
    try:
        demo = write_demo(root / "demo", reports=100)
        rows = []
        for name in ["demo", *(n for n in args.layers.split(",") if n != "demo")]:
            folder = layer_folder(root, demo.root, None if name == "demo" else int(name))
            rows.append((name, measure(folder, root / f"data-{name}", args.requests)))
            print(f"  {name}: done", flush=True)
        base = rows[0][1]["VmRSS"]
        print(f"one gunicorn worker after {args.requests} route and submit requests; MB; the baseline is the same worker on the demo layer")
        print(f"{'layer':<8}{'zones':>8}{'start s':>9}{'at start':>10}{'resident':>10}{'peak':>8}{'vs demo':>9}{'master':>8}")
        for name, r in rows:
            print(f"{name:<8}{r['zones']:>8}{r['start_s']:>9.1f}{r['start_mb']:>10.0f}{r['VmRSS']:>10.0f}{r['VmHWM']:>8.0f}{r['VmRSS'] - base:>+9.0f}"
                  f"{r['master_mb']:>8.0f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
