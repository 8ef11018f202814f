"""What each OGC API collection's features hold, as JSON Schema: the ``describedby`` schema of a
feature's properties (as in the draft OGC API – Features Part 5, so a client types a layer before
reading it: test points are Points and Polygons in one collection, ``geometry-any``) and the
Part 3 queryables, which are also the items' equality filters (``?unit_id=P06``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from api.web import contract

SCHEMA_JSON = "application/schema+json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
#: Each collection's geometry, as the layer contracts allow it (Part 3 ``format`` values).
GEOMETRY = {"zones": "geometry-polygon-or-multipolygon", "test_points": "geometry-any", "areas": "geometry-polygon-or-multipolygon",
            "scope": "geometry-polygon-or-multipolygon", "coverage_gaps": "geometry-polygon-or-multipolygon", "reports_public": "geometry-point"}
#: Each collection's queryables: text properties a client filters on by equality.
QUERYABLES = {"zones": ("zone_id", "unit_id", "kind"), "test_points": ("point_id", "unit_id", "type"), "areas": ("area_id", "level", "default_unit_id"),
              "scope": ("scope_id", "area_id"), "coverage_gaps": ("gap_id", "area_id", "suggested_unit_id"),
              "reports_public": ("category", "unit_id", "area_id")}
#: The items' filter parameters as the document declares them: every collection's queryables.
FILTERS = tuple(contract.query(name, pattern=contract.NO_NUL, description="features whose property of this name is this value "
                               "(a queryable of the collection; see its queryables)")
                for name in sorted({n for names in QUERYABLES.values() for n in names}))


def _type(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_integer_dtype(column):
        return "integer"
    if pd.api.types.is_float_dtype(column):
        return "number"
    return "string"


def _properties(frame: pd.DataFrame, names: list[str], key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        kind = _type(frame[name])
        out[name] = {"title": name, "type": kind, "x-ogc-role": "id"} if name == key else {"title": name, "type": [kind, "null"]}
    return out


def feature_schema(frame: pd.DataFrame, collection: str, key: str, title: str, href: str) -> dict[str, Any]:
    """The JSON Schema of the collection's features' properties and geometry."""
    names = [str(c) for c in frame.columns if c != frame.geometry.name]
    properties = {**_properties(frame, names, key), "geometry": {"x-ogc-role": "primary-geometry", "format": GEOMETRY[collection]}}
    return {"$schema": DIALECT, "$id": href, "type": "object", "title": title, "properties": properties}


def queryables(frame: pd.DataFrame, collection: str, key: str, title: str, href: str) -> dict[str, Any]:
    """The collection's queryables (Part 3): its filterable properties, nothing else."""
    names = [n for n in QUERYABLES[collection] if n in frame.columns]
    properties = {**{n: {"title": n, "type": "string"} for n in names}, "geometry": {"format": GEOMETRY[collection]}}
    return {"$schema": DIALECT, "$id": href, "type": "object", "title": title, "properties": properties, "additionalProperties": False}


def filter_names(frame: pd.DataFrame, collection: str) -> tuple[str, ...]:
    """The properties of ``collection`` a request may filter on."""
    return tuple(n for n in QUERYABLES[collection] if n in frame.columns)


def matches(frame: pd.DataFrame, wanted: dict[str, str]) -> np.ndarray:
    """Which rows hold every ``property: value`` of ``wanted`` (compared as text)."""
    keep = np.ones(len(frame), dtype=bool)
    for name, value in wanted.items():
        keep = keep & (frame[name].astype("string") == value).fillna(False).to_numpy(dtype=bool)
    return keep
