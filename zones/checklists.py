"""Inspection checklists (测评细则) and how an inspection of a test point scores against them.

A checklist is data the district edits, like the categories: per point type, items with a ``code``,
the ``text`` an inspector reads, a ``kind`` (`ItemKind`) with its ``minimum`` where it needs one, a
``weight`` in points, the report ``category`` a failure becomes, who owns a failure (`Owner`: the
owner of the spot by the router, or the point's adopting unit) and the ``clause`` of the evaluation
it comes from. A version is the digest of its rows; a round keeps the version it used.

An inspection answers each item of its point's type: passed, failed, fixed on the spot (立行立改:
found failing, put right at once; it costs its points like a failure but opens no case), or not
applicable; a ``count`` or ``ratio`` item passes on its measured value. A point scores the weights
of its applicable items less the failures' weights; a failure found again at the same point (回头看)
costs `REPEAT_FACTOR` times its weight. Its rate (得分率) is score / possible, never below 0.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from zones.enums import StrEnumChecked, TestPointType
from zones.schema import ValidationReport, _as_text, check_identifiers

COLUMNS = ("point_type", "code", "text", "kind", "minimum", "weight", "category", "owner", "clause")
#: A failure found again at the point it was found at before costs this many times its weight.
REPEAT_FACTOR = 2.0


class ItemKind(StrEnumChecked):
    """What an item asks of the inspector."""

    PRESENT = "present"  # something must be there (a fair scale at the entrance)
    ABSENT = "absent"  # something must not be there (stalls on the road)
    COUNT = "count"  # at least ``minimum`` of something (five public-service posters)
    RATIO = "ratio"  # at least ``minimum`` (0-1) of something works (95 % of lamps lit)
    NOTE = "note"  # an observation, not scored


class Owner(StrEnumChecked):
    """Who a failure is handed to."""

    ZONE = "zone"  # the unit the router gives the spot to
    ADOPTER = "adopter"  # the test point's adopting unit (包联单位)


class Result(StrEnumChecked):
    """How an item was found."""

    PASS = "pass"
    FAIL = "fail"
    FIXED = "fixed"  # 立行立改: failing when found, put right on the spot
    NA = "na"  # not applicable at this point


@dataclass(frozen=True)
class Item:
    """One line of a checklist."""

    point_type: str
    code: str
    text: str
    kind: ItemKind
    minimum: float | None
    weight: float
    category: str
    owner: Owner
    clause: str

    @property
    def scored(self) -> bool:
        """Whether the item counts for the score (a note does not)."""
        return self.kind is not ItemKind.NOTE

    def result_of(self, answer: str | None, value: float | None) -> Result:
        """The item's result: a measured ``count`` or ``ratio`` decides by its minimum, an answer otherwise."""
        if self.kind in (ItemKind.COUNT, ItemKind.RATIO) and value is not None and answer in (None, Result.PASS.value, Result.FAIL.value):
            return Result.PASS if value >= (self.minimum or 0) else Result.FAIL
        return Result(answer) if answer else Result.NA


@dataclass(frozen=True)
class Checklists:
    """Every point type's items, and the version of the table they come from."""

    items: tuple[Item, ...]
    version: str

    @classmethod
    def of(cls, table: pd.DataFrame) -> Checklists:
        """The checklists of a validated table (`validate`)."""
        rows = table[list(COLUMNS)].to_dict("records")
        items = tuple(Item(str(r["point_type"]), str(r["code"]), str(r["text"]), ItemKind(r["kind"]), None if pd.isna(r["minimum"]) else float(r["minimum"]),
                           float(r["weight"]), str(r["category"]), Owner(r["owner"]), str(r["clause"] or "")) for r in rows)
        return cls(items, version_of(table))

    def of_type(self, point_type: str) -> list[Item]:
        """The items a point of ``point_type`` is inspected against, in the table's order."""
        return [item for item in self.items if item.point_type == point_type]

    def item(self, point_type: str, code: str) -> Item | None:
        """One item, or None."""
        return next((i for i in self.items if i.point_type == point_type and i.code == code), None)

    @property
    def types(self) -> list[str]:
        """The point types that have a checklist, in the table's order."""
        return list(dict.fromkeys(item.point_type for item in self.items))

    def rows(self) -> list[dict[str, Any]]:
        """The table as plain rows (what is stored and served)."""
        return [{"point_type": i.point_type, "code": i.code, "text": i.text, "kind": i.kind.value, "minimum": i.minimum, "weight": i.weight,
                 "category": i.category, "owner": i.owner.value, "clause": i.clause} for i in self.items]


def version_of(table: pd.DataFrame) -> str:
    """The digest of a validated table's rows: the same rows, the same version."""
    rows = table[list(COLUMNS)].astype(object).where(table[list(COLUMNS)].notna(), None).to_dict("records")
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()[:12]


def validate(df: pd.DataFrame, *, categories: Collection[str], source: str = "") -> tuple[pd.DataFrame, ValidationReport]:
    """Check a checklists table row by row: a known point type, a unique code per type, a text, a
    known kind with the minimum it needs (a whole count of at least 1; a ratio above 0 up to 1), a
    positive weight (0 for a note), a category of the layer, an owner (`Owner`; zone when empty)."""
    report = ValidationReport("checklists", source, len(df))
    missing = [c for c in ("point_type", "code", "text", "kind", "weight", "category") if c not in df.columns]
    if missing:
        report.error("missing_columns", missing=missing, found=", ".join(map(str, df.columns)))
        return df, report
    out = df.copy()
    for column in COLUMNS:
        if column not in out.columns:
            out[column] = None
    text = {c: [_as_text(v) for v in out[c].tolist()] for c in ("point_type", "code", "text", "kind", "category", "owner", "clause")}
    codes = text["code"]
    check_identifiers(codes, "code", codes, report)
    seen: dict[tuple[str | None, str], int] = {}
    for pos, (kind_of_point, code) in enumerate(zip(text["point_type"], codes, strict=True)):
        for column in ("point_type", "code", "text"):
            if text[column][pos] is None:
                report.error("empty_value", column=column, row=pos + 1, feature_id=code, field=column)
        if kind_of_point is not None and kind_of_point not in TestPointType.values():
            report.error("bad_point_type", value=repr(kind_of_point), known=", ".join(TestPointType.values()), row=pos + 1, feature_id=code,
                         field="point_type")
        if code is not None and (kind_of_point, code) in seen:
            report.error("duplicate", column="code", value=repr(code), first=seen[(kind_of_point, code)], row=pos + 1, feature_id=code, field="code")
        elif code is not None:
            seen[(kind_of_point, code)] = pos + 1
    minimums = pd.to_numeric(out["minimum"], errors="coerce").to_numpy(dtype=np.float64)
    weights = pd.to_numeric(out["weight"], errors="coerce").to_numpy(dtype=np.float64)
    known = set(categories)
    for pos, code in enumerate(codes):
        kind = (text["kind"][pos] or "").lower()
        if kind not in ItemKind.values():
            report.error("bad_item_kind", value=repr(text["kind"][pos]), known=", ".join(ItemKind.values()), row=pos + 1, feature_id=code, field="kind")
        elif not _minimum_fits(ItemKind(kind), minimums[pos], out["minimum"].iloc[pos]):
            report.error("bad_minimum", kind=kind, value=_cell(out["minimum"].iloc[pos]), row=pos + 1, feature_id=code, field="minimum")
        note = kind == ItemKind.NOTE.value
        if not (weights[pos] >= 0 if note else weights[pos] > 0):
            report.error("bad_weight", value=_cell(out["weight"].iloc[pos]), row=pos + 1, feature_id=code, field="weight")
        if text["category"][pos] not in known:
            report.error("unknown_category", value=repr(text["category"][pos]), row=pos + 1, feature_id=code, field="category")
        owner = (text["owner"][pos] or Owner.ZONE.value).lower()
        if owner not in Owner.values():
            report.error("bad_owner", value=repr(text["owner"][pos]), known=", ".join(Owner.values()), row=pos + 1, feature_id=code, field="owner")
    out["point_type"], out["code"], out["text"], out["category"] = text["point_type"], codes, text["text"], text["category"]
    out["kind"] = [(k or "").lower() for k in text["kind"]]
    out["owner"] = [(o or Owner.ZONE.value).lower() for o in text["owner"]]
    out["clause"] = [c or "" for c in text["clause"]]
    out["minimum"], out["weight"] = minimums, weights
    return out[list(COLUMNS)], report


def _cell(value: Any) -> str:
    """A cell as an error shows it."""
    text = _as_text(value)
    return "(empty)" if text is None else repr(text)


def _minimum_fits(kind: ItemKind, minimum: float, raw: Any) -> bool:
    if kind is ItemKind.COUNT:
        return bool(minimum >= 1 and float(minimum).is_integer())
    if kind is ItemKind.RATIO:
        return bool(0 < minimum <= 1)
    return _as_text(raw) is None


@dataclass(frozen=True)
class Deduction:
    """Points one failed item cost at one point."""

    code: str
    points: float
    repeated: bool


@dataclass(frozen=True)
class PointScore:
    """A point's score in one inspection: what it could score, what it lost, item by item."""

    possible: float
    deductions: tuple[Deduction, ...]

    @property
    def score(self) -> float:
        """Points kept (never below 0)."""
        return max(0.0, self.possible - sum(d.points for d in self.deductions))

    @property
    def rate(self) -> float | None:
        """得分率: score / possible (None when nothing applied)."""
        return self.score / self.possible if self.possible else None


def score(items: list[Item], results: Mapping[str, Result], repeated: Collection[str] = (), repeat_factor: float = REPEAT_FACTOR) -> PointScore:
    """The score of one point's inspection: ``results`` by item code (an item not answered does
    not apply); ``repeated``: codes that failed at this point in the inspection this one checks again."""
    possible, lost = 0.0, []
    for item in items:
        result = results.get(item.code, Result.NA)
        if not item.scored or result is Result.NA:
            continue
        possible += item.weight
        if result in (Result.FAIL, Result.FIXED):
            again = item.code in repeated
            lost.append(Deduction(item.code, item.weight * (repeat_factor if again else 1.0), again))
    return PointScore(possible, tuple(lost))
