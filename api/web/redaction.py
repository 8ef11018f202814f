"""What never reaches a log: tokens, reporters' contacts and descriptions in query strings, and
the headers that carry credentials."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

#: Query or form fields whose values are secrets or personal data.
SECRET_FIELDS = frozenset({
    "api_key", "token", "access_token", "password", "reporter_contact", "contact", "description",
    "first_name", "last_name", "email", "phone", "device_id", "account_id",
})
#: Request headers whose values are credentials.
SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})
REDACTED = "***"


def redact_query(query: str) -> str:
    """A query string with the values of `SECRET_FIELDS` replaced by ``***``."""
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(key.lower() in SECRET_FIELDS for key, _ in pairs):
        return query
    return urlencode([(key, REDACTED if key.lower() in SECRET_FIELDS else value) for key, value in pairs], safe="*,:")


def redact_uri(uri: str) -> str:
    """A request target (path and query) with its query redacted."""
    path, sep, query = uri.partition("?")
    return path + sep + redact_query(query) if sep else uri
