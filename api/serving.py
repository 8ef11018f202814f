"""How gunicorn runs the service, as a gunicorn configuration module: ``gunicorn --config
python:api.serving 'api:create_app()'`` (the README's several workers) and ``zonemap serve``
read the same settings.

- The access log redacts tokens, contacts and descriptions from query strings and never prints
  credential headers (`api.redaction`).
- A worker dies with its master: after a ``kill -9`` of the master no orphaned worker keeps the
  port, so a restart can bind it at once.
"""

from __future__ import annotations

import ctypes
import signal
from typing import Any

from gunicorn import glogging

from api.redaction import SECRET_HEADERS, redact_query, redact_uri

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
        for header in SECRET_HEADERS:
            for key in (f"{{{header}}}i", f"{{http_{header.replace('-', '_')}}}e"):
                if key in atoms:
                    atoms[key] = "-"
        return atoms


def die_with_master(_server: Any, _worker: Any) -> None:
    """In a new worker: ask Linux to SIGKILL it when its master dies (the master is gone, so
    nothing can finish gracefully, and the listening socket must be freed)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:  # not Linux: gunicorn's own parent check (about a second) remains
        return
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


accesslog = "-"
logger_class = "api.serving.RedactingLogger"
post_fork = die_with_master

#: The settings above, for a gunicorn application that is configured in code (``zonemap serve``).
SETTINGS: dict[str, Any] = {"accesslog": accesslog, "logger_class": logger_class, "post_fork": post_fork}
