"""The documented gunicorn setup: workers die with their master, so a restart after a kill -9 of
the master finds the port free at once."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from tests.support.server import call, running

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(p) for p in handle.read().split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_workers_exit_when_their_master_is_killed(demo_files, tmp_path):
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root)}
    with running(env, tmp_path, workers=2) as server:
        assert call("GET", server.base + "/healthz")[0] == 200
        master = server.process.pid
        workers = _children(master)
        assert len(workers) == 2
        os.kill(master, signal.SIGKILL)
        killed = time.monotonic()
        server.process.wait(timeout=10)
        while any(_alive(w) for w in workers) and time.monotonic() - killed < 30:
            time.sleep(0.05)
        gone = time.monotonic() - killed
        print(f"workers gone {gone:.2f} s after the master's kill -9")
        assert not any(_alive(w) for w in workers)
        assert gone < 3
        while not _bindable(server.port) and time.monotonic() - killed < 30:
            time.sleep(0.05)
        free = time.monotonic() - killed
        print(f"port free {free:.2f} s after the master's kill -9")
        assert free < 3
        server.start()  # and the server comes back on it
        assert call("GET", server.base + "/healthz")[0] == 200
