"""Slow clients stall nobody: ``zonemap serve`` keeps answering routing and submissions within
their usual latency while 16 connections trickle their headers or bodies a byte at a time."""

from __future__ import annotations

import os
import socket
import statistics
import threading
import time

import pytest

from tests.api.test_reports import LAT, LON, REPORT
from tests.support.server import call, create_token, running

pytestmark = pytest.mark.slow
SLOW = 16
TRICKLE_S = 0.5  # one byte every half second
SLOW_FOR_S = 12.0


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


def test_sixteen_slow_connections_stall_nobody(demo_files, tmp_path):
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root)}
    with running(env, tmp_path) as server:
        token = create_token(env, tmp_path)
        _latencies(server.base, token, 10)  # warm
        before = _latencies(server.base, token, 40)
        stop = threading.Event()
        slow_headers = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: " + b"a" * 200 + b"\r\n\r\n")
        slow_body = (b"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 400\r\n"
                     + f"Authorization: Bearer {token}\r\n\r\n".encode(), b"{" + b" " * 398 + b"}")
        threads = [threading.Thread(target=_trickle, args=(server.port, *(slow_headers if k % 2 else slow_body), stop), daemon=True) for k in range(SLOW)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # every slow connection is open and sending
        during = []
        until = time.monotonic() + SLOW_FOR_S - 2
        while time.monotonic() < until:
            during += _latencies(server.base, token, 4)
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    p50_before, p50_during = statistics.median(before), statistics.median(during)
    worst = max(during)
    print(f"{SLOW} slow connections: p50 {p50_before * 1000:.1f} ms before, {p50_during * 1000:.1f} ms during ({len(during)} requests), worst {worst * 1000:.0f} ms")
    assert p50_during < 3 * p50_before + 0.02
    assert worst < 1.0
