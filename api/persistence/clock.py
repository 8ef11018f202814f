"""Time as the service stores and shows it: UTC, ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the zone (every stored moment is read back aware: `UTCDateTime`)."""
    return None if value is None else value.isoformat()
