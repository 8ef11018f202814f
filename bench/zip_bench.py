"""A zip bomb against a planner's upload: a zipped "shapefile" of about 2 MB that unpacks to
2 GB, posted as a draft's ``zones`` to a real ``zonemap serve`` on 127.0.0.1, while another
client calls ``/healthz``. It prints the answer, the server's resident-size growth (``VmRSS``
and its high-water mark ``VmHWM``), and ``/healthz`` latencies during the upload.

The baseline, in the same run: the same zip opened in a fresh process the way members were
read before they were streamed (``ZipFile.read`` of the member), and that process's growth.

    python bench/zip_bench.py [--gib 2]
"""

from __future__ import annotations

import argparse
import io
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
import zipfile
from pathlib import Path

import sqlalchemy as sa
from service_bench import free_port, wait_healthy  # bench/ is on the path when a bench script runs
from sqlalchemy.orm import Session

from api.auth.callers import create_token
from geodata.demo import write_demo

ZONEMAP = str(Path(sys.executable).parent / "zonemap")
MIB = 1 << 20


def bomb(gib: float) -> bytes:
    """A zip holding one .shp of ``gib`` GiB of zeros (and an empty .dbf)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("bomb.dbf", b"")
        with archive.open("bomb.shp", "w", force_zip64=True) as member:
            chunk = bytes(64 * MIB)
            for _ in range(int(gib * 1024 / 64)):
                member.write(chunk)
    return out.getvalue()


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {key: int(fields[key].split()[0]) // 1024 for key in ("VmRSS", "VmHWM")}


BASELINE = """
import io, sys, zipfile
from pathlib import Path
data = sys.stdin.buffer.read()
def rss():
    return int(next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM")).split()[1]) // 1024
before = rss()
with zipfile.ZipFile(io.BytesIO(data)) as archive:
    member = next(m for m in archive.infolist() if m.filename.endswith(".shp"))
    unpacked = len(archive.read(member))
print(unpacked, rss() - before)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=2.0)
    args = parser.parse_args()
    data = bomb(args.gib)
    print(f"zip: {len(data) / MIB:.1f} MiB, unpacks to {args.gib:g} GiB")
    done = subprocess.run([sys.executable, "-c", BASELINE], input=data, capture_output=True, check=True)
    unpacked, grew = map(int, done.stdout.split())
    print(f"baseline (ZipFile.read of the member, as before): unpacked {unpacked / MIB:,.0f} MiB, peak grew {grew:,} MiB")
    with tempfile.TemporaryDirectory(prefix="zonemap-zip-bench-") as tmp:
        folder = Path(tmp)
        demo = write_demo(folder / "demo")
        port = free_port()
        url = f"sqlite:///{folder / 'zonemap.sqlite'}"
        env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo.root), "DATABASE_URL": url, "ZONEMAP_DATA_DIR": str(folder)}
        server = subprocess.Popen([ZONEMAP, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, 120)
            engine = sa.create_engine(url)
            with Session(engine) as session, session.begin():
                token = create_token(session, "planner")
            engine.dispose()
            before = memory(server.pid)
            latencies: list[float] = []
            stop = threading.Event()

            def health() -> None:
                while not stop.is_set():
                    started = time.perf_counter()
                    urllib.request.urlopen(base + "/healthz", timeout=30).read()
                    latencies.append((time.perf_counter() - started) * 1000)
                    time.sleep(0.02)

            watcher = threading.Thread(target=health)
            watcher.start()
            boundary = "zonemap-bench"
            body = (f'--{boundary}\r\nContent-Disposition: form-data; name="zones"; filename="bomb.zip"\r\n'
                    "Content-Type: application/zip\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
            request = urllib.request.Request(base + "/api/v1/layers/drafts", data=body, method="POST",
                                             headers={"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=300) as answer:
                    status, text, location = answer.status, answer.read().decode(), answer.headers.get("Location")
            except urllib.error.HTTPError as err:
                status, text, location = err.code, err.read().decode(), None
            while status == 202 and json.loads(text)["state"] in ("queued", "processing"):  # the draft, read by a worker process
                time.sleep(0.2)
                polled = urllib.request.Request(base + location, headers={"Authorization": f"Bearer {token}"})
                with urllib.request.urlopen(polled, timeout=30) as answer:
                    text = answer.read().decode()
            took = time.perf_counter() - started
            stop.set()
            watcher.join()
            after = memory(server.pid)
            print(f"upload answered {status}, processed in {took:.2f} s: {text[:300]}")
            peak = after["VmHWM"] - before["VmHWM"]
            print(f"server resident: {before['VmRSS']:,} -> {after['VmRSS']:,} MiB; peak {before['VmHWM']:,} -> {after['VmHWM']:,} MiB "
                  f"(grew {peak:,} MiB at most; the baseline grew {grew:,} MiB: {grew / max(peak, 1):.0f}x)")
            if latencies:
                ordered = sorted(latencies)
                print(f"/healthz during the upload: {len(ordered)} calls, p50 {statistics.median(ordered):.1f} ms, "
                      f"p99 {ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]:.1f} ms, max {ordered[-1]:.1f} ms")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
