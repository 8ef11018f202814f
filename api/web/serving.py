"""How the service is served.

``zonemap serve`` runs one process on waitress (`serve_one`), which reads every request whole —
headers and body, in its event loop — before a thread takes it, and buffers every answer, so
clients that send or read slowly hold no thread; idle connections close after
``CHANNEL_TIMEOUT_S``. Several workers run on gunicorn with this module as its configuration
(``gunicorn --config python:api.web.serving 'api:create_app()'``) behind a buffering front (the
README's nginx settings): gunicorn's threads block on a slow client.

Both access logs redact tokens, contacts and descriptions from query strings and never print
credential headers (`api.web.redaction`). A gunicorn worker dies with its master: after a
``kill -9`` of the master no orphaned worker keeps the port, so a restart can bind it at once.
Each gunicorn worker once its app is loaded, and ``zonemap serve`` before it serves, keeps its
long-lived objects out of the cycle collector's passes (`api.web.memory.freeze_long_lived`).
"""

from __future__ import annotations

import ctypes
import logging
import signal
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn import glogging

from api.web.memory import freeze_long_lived
from api.web.redaction import SECRET_HEADERS, redact_query, redact_uri, redact_url

_PR_SET_PDEATHSIG = 1  # prctl(2)


class RedactingLogger(glogging.Logger):
    """Gunicorn's logger, with secrets and personal data taken out of every access-log atom."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        """The format atoms of one access-log line, redacted."""
        atoms = super().atoms(resp, req, environ, request_time)
        uri = redact_uri(environ.get("RAW_URI", ""))
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {uri} {environ.get('SERVER_PROTOCOL')}"
        atoms["q"] = redact_query(environ.get("QUERY_STRING", ""))
        for key in ("{raw_uri}e", "{request_uri}e"):
            if key in atoms:
                atoms[key] = uri
        if "{query_string}e" in atoms:
            atoms["{query_string}e"] = atoms["q"]
        for key in ("f", "{referer}i", "{http_referer}e"):
            if key in atoms:
                atoms[key] = redact_url(atoms[key])
        for header in SECRET_HEADERS:
            for key in (f"{{{header}}}i", f"{{http_{header.replace('-', '_')}}}e"):
                if key in atoms:
                    atoms[key] = "-"
        return atoms


def settle_worker(_worker: Any) -> None:
    """In a worker whose app is loaded: keep its long-lived objects out of the cycle collector's
    passes (`api.web.memory.freeze_long_lived`)."""
    freeze_long_lived()


def die_with_master(_server: Any, _worker: Any) -> None:
    """In a new worker: ask Linux to SIGKILL it when its master dies (the master is gone, so
    nothing can finish gracefully, and the listening socket must be freed)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:  # not Linux: gunicorn's own parent check (about a second) remains
        return
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


#: Seconds an idle connection (nothing sent or received) stays open under ``zonemap serve``.
CHANNEL_TIMEOUT_S = 30
#: Connections ``zonemap serve`` keeps open at once; more wait in the listen backlog.
CONNECTION_LIMIT = 500


class AccessLog:
    """WSGI middleware writing one redacted access-log line per request (``zonemap serve``; the
    same fields as gunicorn's default format)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], logger: logging.Logger) -> None:
        self.app, self.logger = app, logger

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Serve the request and log it once its answer has started."""
        seen: dict[str, str] = {}

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            seen["length"] = next((v for k, v in headers if k.lower() == "content-length"), "-")
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        started = time.monotonic()
        result = self.app(environ, recording)
        query = environ.get("QUERY_STRING", "")
        target = environ.get("PATH_INFO", "") + ("?" + redact_query(query) if query else "")
        self.logger.info('%s - - [%s] "%s %s %s" %s %s "%s" "%s" %.0fms', environ.get("REMOTE_ADDR", "-"), time.strftime("%d/%b/%Y:%H:%M:%S %z"),
                         environ.get("REQUEST_METHOD"), target, environ.get("SERVER_PROTOCOL"), seen.get("status", "-"), seen.get("length", "-"),
                         redact_url(environ.get("HTTP_REFERER", "-")), environ.get("HTTP_USER_AGENT", "-"), (time.monotonic() - started) * 1000)
        return result


def serve_one(app: Callable[..., Iterable[bytes]], host: str, port: int, threads: int, *, max_body_bytes: int) -> None:
    """Serve ``app`` on waitress until the process is stopped (``zonemap serve``)."""
    from waitress import serve

    logger = logging.getLogger("zonemap.access")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    freeze_long_lived()  # the app is built: its objects stay out of the cycle collector's passes
    serve(AccessLog(app, logger), host=host, port=port, threads=threads, channel_timeout=CHANNEL_TIMEOUT_S,
          connection_limit=CONNECTION_LIMIT, max_request_body_size=max_body_bytes, ident="zonemap", clear_untrusted_proxy_headers=True)


accesslog = "-"
logger_class = "api.web.serving.RedactingLogger"
post_fork = die_with_master
post_worker_init = settle_worker

