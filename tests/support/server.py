"""The real server in a subprocess on 127.0.0.1 (``zonemap serve``, or gunicorn with several
workers), and a small JSON client for it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ZONEMAP = str(Path(sys.executable).parent / "zonemap")
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method: str, url: str, body: dict | None = None, token: str | None = None, headers: dict[str, str] | None = None,
         data: bytes | None = None) -> tuple[int, Any]:
    """One request; the status and the JSON body (None when the body is not JSON). Connection
    errors (refused, reset) are raised as `OSError`."""
    if body is not None:
        data = json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


def publish_layer(base: str, token: str, body: bytes, content_type: str) -> dict:
    """A zone layer published through the API (``POST /api/v1/layers``): the draft it made, once a
    worker process has read and published it."""
    status, draft = call("POST", base + "/api/v1/layers", None, token, {"Content-Type": content_type}, data=body)
    assert status == 202, draft
    deadline = time.monotonic() + 120
    while draft["state"] in ("queued", "processing"):
        assert time.monotonic() < deadline, draft
        time.sleep(0.2)
        status, draft = call("GET", f"{base}/api/v1/layers/drafts/{draft['id']}?comparison=false", token=token)
        assert status == 200, draft
    assert draft["state"] == "published", draft
    return draft


def server_command(port: int, data_dir: Path, workers: int | None) -> list[str]:
    """``zonemap serve`` (one worker), or gunicorn with ``workers`` workers as the README runs it."""
    if workers is None:
        return [ZONEMAP, "serve", "--port", str(port), "--data-dir", str(data_dir)]
    return [GUNICORN, "--config", "python:api.web.serving", "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5",
            "api:create_app()"]


def wait_healthy(base: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    """Until ``/healthz`` answers; fail with the server's log if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            return
        except OSError:
            if process.poll() is not None:
                pytest.fail(log.read_text(encoding="utf-8", errors="replace"))
            time.sleep(0.3)
    pytest.fail(f"{base} did not come up within {timeout:g} s")


class Server:
    """A running server process (its own process group), restartable on the same port."""

    def __init__(self, env: dict[str, str], data_dir: Path, workers: int | None) -> None:
        self.env = {**env, "ZONEMAP_DATA_DIR": str(data_dir)}
        self.data_dir = data_dir
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "server.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start and wait until healthy."""
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(server_command(self.port, self.data_dir, self.workers), env=self.env, cwd=self.data_dir,
                                            stdout=sink, stderr=sink, start_new_session=True)  # the access log too
        wait_healthy(self.base, self.process, self.log)

    def kill(self) -> None:
        """kill -9 the whole server: master and workers."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Terminate gracefully."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)


@contextmanager
def serving(env: dict[str, str], data_dir: Path, workers: int | None = None) -> Iterator[str]:
    """Run the server on a free 127.0.0.1 port until the block ends; yield its base URL."""
    with running(env, data_dir, workers) as server:
        yield server.base


@contextmanager
def running(env: dict[str, str], data_dir: Path, workers: int | None = None) -> Iterator[Server]:
    """Like `serving`, yielding the `Server` (to kill or restart it)."""
    server = Server(env, data_dir, workers)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def create_token(env: dict[str, str], data_dir: Path, role: str = "dispatcher", unit_id: str | None = None) -> str:
    """A token made with the command line, as an operator would."""
    command = [ZONEMAP, "token", "create", "--role", role, "--data-dir", str(data_dir), *(["--unit", unit_id] if unit_id else [])]
    made = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return made.stdout.strip().splitlines()[-1]


def upload_photo(base: str, token: str, data: bytes, name: str = "photo.jpg") -> str:
    """Upload a photo to the API (multipart, as an app does); its reference."""
    boundary = "zonemap-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    status, answer = call("POST", base + "/api/v1/photos", token=token, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 201, answer
    return answer["url"]


def make_accounts(database_url: str, users: list[tuple[str, str, str | None]], tokens: list[tuple[str, str | None]]) -> list[str]:
    """Accounts (username, role, unit; the shared test password) and tokens (role, unit) written
    straight to a running server's database: the use-cases the commands call, without a command's
    start-up per account (other tests make theirs with the commands, as an operator does). The tokens made."""
    from api.auth.accounts import create_user
    from api.auth.callers import create_token as new_token
    from api.persistence import Database
    from tests.support.browser import PASSWORD

    database = Database(database_url)
    try:
        with database.session() as session:
            for username, role, unit in users:
                create_user(session, None, username, role, PASSWORD, unit)
            made = [new_token(session, role, unit) for role, unit in tokens]
            session.commit()
    finally:
        database.engine.dispose()
    return made

