"""A webhook receiver on 127.0.0.1 for the delivery tests: it fails each message's first
attempts, can hold one message until the test says so, and records everything it got."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """What arrived: every attempt, and the attempts answered 200."""

    def __init__(self, fail_first: int, hold_key: str | None = None) -> None:
        self.fail_first = fail_first
        self.hold_key = hold_key
        self.held = threading.Event()  # the held message arrived
        self.release = threading.Event()  # answer it now
        self.lock = threading.Lock()
        self.attempts: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.bodies: dict[str, dict] = {}
        self.url = ""


@contextmanager
def receiving(fail_first: int = 0, hold_key: str | None = None) -> Iterator[Receiver]:
    """Run a receiver until the block ends."""
    receiver = Receiver(fail_first, hold_key)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers["Idempotency-Key"]
            with receiver.lock:
                receiver.attempts[key] += 1
                attempt = receiver.attempts[key]
                receiver.bodies[key] = body
            if attempt <= receiver.fail_first:
                self.send_response(503)
                self.end_headers()
                return
            if key == receiver.hold_key and not receiver.release.is_set():
                receiver.held.set()
                receiver.release.wait(60)
            with receiver.lock:
                receiver.accepted[key] += 1
            try:
                self.send_response(200)
                self.end_headers()
            except OSError:  # the sender is gone
                pass

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
