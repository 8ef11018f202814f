"""Nothing stalls routing and submissions: ``zonemap serve`` answers them within their usual
latency while 16 connections trickle their headers or bodies a byte at a time, and while the
coverage analysis and map of a layer are being computed."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.api.reports.test_reports import LAT, LON, REPORT
from tests.support.pages import signed_in
from tests.support.server import call, create_token, free_port, running

pytestmark = pytest.mark.slow
SLOW = 16
TRICKLE_S = 0.5  # one byte every half second
SLOW_FOR_S = 8.0


def _trickle(port: int, head: bytes, tail: bytes, stop: threading.Event) -> None:
    """Send ``head`` at once, then ``tail`` a byte at a time until ``stop``."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        for byte in tail:
            if stop.wait(TRICKLE_S):
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:  # the server closed an idle or oversized connection: fine
                return


def _latencies(base: str, token: str, rounds: int) -> list[float]:
    out = []
    for k in range(rounds):
        started = time.monotonic()
        if k % 2:
            status, _ = call("GET", f"{base}/api/v1/route?lon={LON}&lat={LAT}&category=litter", token=token)
            assert status == 200
        else:
            status, _ = call("POST", base + "/api/v1/reports", REPORT, token)
            assert status == 201
        out.append(time.monotonic() - started)
    return out


NGINX_CONF = """daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    # The README's settings: requests and answers buffered whole, timeouts on headers and bodies.
    proxy_request_buffering on; proxy_buffering on;
    client_header_timeout 10s; client_body_timeout 10s; send_timeout 30s; client_max_body_size 200m;
    upstream zonemap {{ server 127.0.0.1:{upstream}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://zonemap; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; }}
    }}
}}
"""


@contextmanager
def nginx_in_front_of(upstream: int, folder) -> Iterator[int]:
    """Debian's nginx on a free port, buffering for ``upstream``; yields its port."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert os.path.exists(nginx), "the documented multi-worker setup needs nginx (apt-get install nginx-light; .ci/run installs it)"
    port = free_port()
    folder.mkdir()
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=folder, upstream=upstream, port=port, user="user root;" if os.geteuid() == 0 else ""))
    process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(folder)], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def front(kind: str, env: dict[str, str], folder) -> Iterator[tuple[str, int]]:
    """``zonemap serve`` alone, or the README's gunicorn workers behind nginx: (base URL, port)."""
    if kind == "zonemap serve":
        with running(env, folder) as server:
            yield server.base, server.port
        return
    with running(env, folder, workers=3) as server, nginx_in_front_of(server.port, folder / "nginx") as port:
        yield f"http://127.0.0.1:{port}", port


@pytest.mark.parametrize("kind", ["zonemap serve", "gunicorn behind nginx"])
def test_sixteen_slow_connections_stall_nobody(kind, demo_files, tmp_path):
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root)}
    with front(kind, env, tmp_path) as (base, port):
        token = create_token(env, tmp_path)
        _latencies(base, token, 10)  # warm
        before = _latencies(base, token, 40)
        stop = threading.Event()
        slow_headers = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: " + b"a" * 200 + b"\r\n\r\n")
        slow_body = (b"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 400\r\n"
                     + f"Authorization: Bearer {token}\r\n\r\n".encode(), b"{" + b" " * 398 + b"}")
        threads = [threading.Thread(target=_trickle, args=(port, *(slow_headers if k % 2 else slow_body), stop), daemon=True) for k in range(SLOW)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # every slow connection is open and sending
        during = []
        until = time.monotonic() + SLOW_FOR_S - 2
        while time.monotonic() < until:
            during += _latencies(base, token, 4)
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    p50_before, p50_during = statistics.median(before), statistics.median(during)
    worst = max(during)
    print(f"{kind}, {SLOW} slow connections: p50 {p50_before * 1000:.1f} ms before, {p50_during * 1000:.1f} ms during ({len(during)} requests), "
          f"worst {worst * 1000:.0f} ms")
    assert p50_during < 3 * p50_before + 0.02
    assert worst < 1.0


def test_coverage_work_never_delays_routing(demo_files, tmp_path):
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root)}
    with running(env, tmp_path) as server:
        token = create_token(env, tmp_path)
        _latencies(server.base, token, 10)  # warm
        before = _latencies(server.base, token, 20)
        pages = []
        for path in ("/maps/coverage", "/console/plan", "/maps/coverage"):  # the first computes, the others wait for it
            thread = threading.Thread(target=lambda path=path: pages.append(call("GET", server.base + path, token=token)[0]), daemon=True)
            thread.start()
        started, during = time.monotonic(), []
        while len(pages) < 3 and time.monotonic() - started < 120:
            during += _latencies(server.base, token, 2)
        computing = time.monotonic() - started
    worst = max(during)
    print(f"routing and submitting while the coverage map was computed ({computing:.1f} s): {len(during)} requests, "
          f"p50 {statistics.median(before) * 1000:.1f} ms before, {statistics.median(during) * 1000:.1f} ms during, worst {worst * 1000:.0f} ms")
    assert len(pages) == 3 and set(pages) == {200}
    assert worst < 1.2  # the lock the analysis shared with routing held routing for 1.85 s


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_coverage_page_not_ready_answers_503_and_the_work_goes_on(app, client):
    signed_in(app, client, "planner")
    app.config["COVERAGE_WAIT_SECONDS"] = 0.001
    first = client.get("/console/plan")
    assert first.status_code == 503 and int(first.headers["Retry-After"]) >= 5
    assert first.mimetype == "text/html" and "页面正在准备中" in first.get_data(as_text=True)  # a page, in the reader's language
    app.config["COVERAGE_WAIT_SECONDS"] = 60.0
    assert client.get("/console/plan").status_code == 200  # the same job, finished: not computed twice
    assert client.get("/maps/coverage").status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_zone_with_too_many_vertices_is_refused_by_name(app, client, tokens, demo_files, tmp_path):
    import pyogrio
    import shapely

    from api import create_app
    from api.layers.live import stop_jobs
    from geodata.io import write_layer
    from tests.api.layers.test_layers import post_layer, processed

    path = tmp_path / "huge.gpkg"
    for name in ("zones", "test_points", "areas"):
        frame = pyogrio.read_dataframe(demo_files.gpkg, layer=name)
        if name == "zones":
            centre = frame.geometry.iloc[5].centroid
            frame.loc[5, "geometry"] = shapely.MultiPolygon([centre.buffer(0.0005, quad_segs=15_000)])  # 60,001 vertices
            huge = frame.loc[5, "zone_id"]
        write_layer(frame, path, layer=name)
    body = processed(client, tokens["planner"], post_layer(client, tokens["planner"], layer=(path.read_bytes(), "huge.gpkg")))
    assert body["state"] == "refused"
    problem = next(e for e in body["errors"] if e["field"] == "geometry")
    assert "60,001 vertices" in problem["message"] and "50,000" in problem["message"] and problem["feature_id"] == huge, problem
    roomy = create_app({**{k: app.config[k] for k in ("DATA_DIR", "DATABASE_URL", "LAYER_DIR")}, "TESTING": True, "MAX_VERTICES": 100_000})
    try:  # the limit is a setting
        with roomy.test_client() as other:
            assert processed(other, tokens["planner"], post_layer(other, tokens["planner"], layer=(path.read_bytes(), "huge.gpkg")))["state"] == "published"
    finally:
        stop_jobs(roomy)
        roomy.extensions["zonemap.db"].engine.dispose()


def _png(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmHWM")) / 1024


def test_eight_photo_bombs_at_once_stay_bounded(demo_files, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from tests.api.layers.test_layers import multipart

    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root)}
    bomb, largest = _png(7000, 7000), _png(4900, 4900)  # 49 MP (refused from its header) and 24 MP (decoded, scaled)
    with running(env, tmp_path) as server:
        token = create_token(env, tmp_path)
        call("GET", server.base + "/healthz")
        start = _peak_mb(server.process.pid)

        def upload(data: bytes) -> tuple[int, dict]:
            body, content_type = multipart(photo=(data, "p.png"))
            return call("POST", server.base + "/api/v1/photos", None, token, {"Content-Type": content_type}, data=body)

        with ThreadPoolExecutor(8) as pool:
            bombs = list(pool.map(upload, [bomb] * 8))
            large = list(pool.map(upload, [largest] * 8))
        peak = _peak_mb(server.process.pid)
    print(f"8 uploads of a {len(bomb) // 1024} KB 7000×7000 PNG and 8 of a 4900×4900: worker peak {peak:.0f} MB (at start {start:.0f} MB)")
    assert {status for status, _ in bombs} == {422} and "pixels" in bombs[0][1]["detail"]
    assert {status for status, _ in large} == {201} and {(b["width"], b["height"]) for _, b in large} == {(2560, 2560)}
    assert peak - start < 700


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_photo_uploads_are_limited_per_token_for_every_role(client, tokens, app):
    import io

    from tests.api.web.test_access import png

    app.config["PHOTO_UPLOAD_LIMIT"] = "2 per minute"
    send = lambda who, colour: client.post("/api/v1/photos", data={"photo": (io.BytesIO(png(colour)), "p.png")}, headers=tokens[who],  # noqa: E731
                                           content_type="multipart/form-data")
    assert [send("unit_a", (k, 0, 0)).status_code for k in range(3)] == [201, 201, 429]
    assert send("unit_b", (9, 9, 9)).status_code == 201  # another token has its own count
    limited = send("dispatcher", (1, 1, 1)), send("dispatcher", (2, 2, 2)), send("dispatcher", (3, 3, 3))
    assert [r.status_code for r in limited] == [201, 201, 429] and "Retry-After" in limited[2].headers
