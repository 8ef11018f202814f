"""What never reaches a log: tokens (under any name), reporters' contacts and descriptions, what
a dispatcher types into the search box, in query strings and in the Referer; and the headers that
carry credentials."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query or form fields whose values are secrets or personal data (``q``: the dispatchers'
#: search, often a phone number).
SECRET_FIELDS = frozenset({
    "api_key", "token", "access_token", "password", "reporter_contact", "contact", "description",
    "first_name", "last_name", "email", "phone", "device_id", "account_id", "q",
})
#: A value that looks like a credential whatever its name: a zonemap token, or a long opaque string.
TOKEN_LIKE = re.compile(r"(zm_|Bearer\s).*|[A-Za-z0-9_\-.~+/=]{32,}", re.IGNORECASE)
#: Request headers whose values are credentials.
SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})
REDACTED = "***"


def redact_query(query: str) -> str:
    """A query string with the values of `SECRET_FIELDS` replaced by ``***``."""
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True) if "%" in query or "+" in query else _plain_pairs(query)
    shown = [(key, _shown(key, value)) for key, value in pairs]
    if shown == pairs:
        return query
    return urlencode(shown, safe="*,:")


def _plain_pairs(query: str) -> list[tuple[str, str]]:
    """``parse_qsl(query, keep_blank_values=True)`` for a query with nothing to unquote (no ``%``
    or ``+``), without its per-pair unquoting: every access-log line of a GET with arguments."""
    return [(name, value) for name, _, value in (part.partition("=") for part in query.split("&") if part)]


def _shown(key: str, value: str) -> str:
    """What a log may show of one query value: a page's path with a query of its own (``next``
    after a sign-in redirect) has that query redacted too."""
    if key.lower() in SECRET_FIELDS or TOKEN_LIKE.fullmatch(value):
        return REDACTED
    return redact_uri(value) if "?" in value else value


def redact_uri(uri: str) -> str:
    """A request target (path and query) with its query redacted."""
    path, sep, query = uri.partition("?")
    return path + sep + redact_query(query) if sep else uri


def redact_url(url: str) -> str:
    """A full URL (a Referer) with its query redacted."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=redact_query(parts.query))) if parts.query else url

