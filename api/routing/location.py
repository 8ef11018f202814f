"""A reported position as a client gave it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A reported position as given: lon/lat in the named system, and the GPS accuracy."""

    lon: float
    lat: float
    crs: str
    accuracy_m: float | None
