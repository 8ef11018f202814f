"""A routing decision: where one report goes, by which rule, and why.

`Decision` is the one definition of a decision's fields. The router's columns, a stored report's
columns, every JSON answer and the webhook payload are derived from it: lists are lists in
memory and JSON, and ``;``-joined text in files and table columns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

#: How a list of unit ids is written in files and table columns.
LIST_SEPARATOR = ";"


@dataclass(frozen=True)
class Decision:
    """The router's answer for one report."""

    status: str
    unit_id: str | None
    zone_id: str | None
    co_owner_unit_ids: tuple[str, ...]
    candidate_unit_ids: tuple[str, ...]
    rule: str | None
    distance_m: float | None
    test_point_id: str | None
    zone_version: str
    reason: str | None
    # By-products the service uses (sub-district, the test point's adopter, the category's
    # deadline); decision files carry them after the decision proper.
    area_id: str | None = field(default=None, metadata={"by_product": True})
    test_point_unit_id: str | None = field(default=None, metadata={"by_product": True})
    deadline_hours: float | None = field(default=None, metadata={"by_product": True})

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Decision:
        """A decision from a file's or a table's columns (lists as ``;``-joined text, missing
        values as None, NaN or empty text)."""
        values = {}
        for name in DECISION_FIELDS:
            value = _plain(row.get(name))
            if name in LIST_FIELDS:
                value = tuple(u for u in (value or "").split(LIST_SEPARATOR) if u)
            values[name] = value
        return cls(**values)

    def as_row(self) -> dict[str, Any]:
        """The decision's columns as files and tables hold them: lists ``;``-joined, None when empty."""
        return {name: (LIST_SEPARATOR.join(value) or None) if name in LIST_FIELDS else value for name, value in self._values()}

    def as_json(self) -> dict[str, Any]:
        """The decision as every JSON answer and the webhook payload give it: lists as lists."""
        return {name: list(value) if name in LIST_FIELDS else value for name, value in self._values()}

    def _values(self) -> list[tuple[str, Any]]:
        """(field, value) in field order; the values are immutable, so no copy is made (as
        `dataclasses.asdict` would, recursively)."""
        return [(name, getattr(self, name)) for name in DECISION_FIELDS]


def _plain(value: Any) -> Any:
    """None for what a table or a frame holds as missing (None, NaN, empty text)."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


#: Every field of a decision, in the order decision files write them.
DECISION_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Decision))
#: The fields holding lists of unit ids.
LIST_FIELDS = frozenset(f.name for f in fields(Decision) if f.type == "tuple[str, ...]")
#: The decision proper, without the by-products.
CORE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Decision) if not f.metadata.get("by_product"))
