"""The answers every feature shares: problem details, Open311 errors, GeoJSON, the health check."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    """What is wrong with one field."""

    field: str | None = None
    message: str = ""


class Problem(BaseModel):
    """RFC 9457 problem details naming the field."""

    type: str = ""
    title: str = ""
    status: int = 0
    detail: str = ""
    errors: list[FieldError] = []


class Open311Error(BaseModel):
    """One Open311 error."""

    code: int
    description: str


class Feature(BaseModel):
    """A GeoJSON feature (WGS84)."""

    type: Literal["Feature"]
    id: str = ""
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    """A GeoJSON feature collection (WGS84)."""

    type: Literal["FeatureCollection"]
    features: list[Feature]


class Health(BaseModel):
    """Liveness and the zone-layer version."""

    status: str
    zone_version: str
    zones: int = 0
    worker: int = Field(0, description="process id of the worker that answered")


#: The shared error answers of the document: name → description, media type(s), schema.
ERROR_RESPONSES: dict[str, tuple[str, str | tuple[str, ...], Any]] = {
    "Problem": ("RFC 9457 problem details naming the field", "application/problem+json", Problem),
    "Open311Errors": ("Open311 errors (in XML: <errors><error><code/><description/></error></errors>)", ("application/json", "text/xml"), list[Open311Error]),
}
