"""A round's scores (得分率), recomputed from its stored inspections: per point (its latest
inspection), and summed per point type, adopting unit, sub-district and for the round; the items
that cost the most; and a round's progress. No Flask."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.inspections import rounds
from api.persistence.models import Inspection, Round
from zones.checklists import Checklists, Result
from zones.layer import ZoneLayer
from zones.worktime import TIMEZONE

#: The groupings a round's scores are summed by.
GROUPINGS = ("type", "unit", "area")


@dataclass(frozen=True)
class PointRow:
    """A point of the round: what it is, who adopted it, and its latest inspection's score."""

    point_id: str
    name: str
    point_type: str
    unit_id: str
    area_id: str
    inspector: str | None
    inspected: bool
    failed: int
    possible: float
    score: float
    far: bool
    lon: float
    lat: float

    @property
    def rate(self) -> float | None:
        """得分率 of the point (None before it is inspected, or when nothing applied)."""
        return self.score / self.possible if self.inspected and self.possible else None


@dataclass(frozen=True)
class Scores:
    """A round's scores: its points, the sums per grouping, the round's own, and the worst items."""

    points: list[PointRow]
    groups: dict[str, list[dict[str, Any]]]
    total: dict[str, Any]
    worst: list[dict[str, Any]]


def round_totals(session: Session, round_ids: list[int]) -> dict[int, tuple[int, float | None]]:
    """Each round's points inspected and score rate (its points' latest inspections summed), for a
    list of rounds that shows the trend from round to round."""
    latest: dict[tuple[int, str], tuple[float, float]] = {}
    rows = session.execute(select(Inspection.round_id, Inspection.point_id, Inspection.score, Inspection.possible)
                           .where(Inspection.round_id.in_(round_ids)).order_by(Inspection.at, Inspection.id))
    for round_id, point, kept, possible in rows:
        latest[(round_id, point)] = (kept, possible)
    out: dict[int, tuple[int, float | None]] = {}
    for round_id in round_ids:
        mine = [v for (r, _p), v in latest.items() if r == round_id]
        possible = sum(p for _k, p in mine)
        out[round_id] = (len(mine), sum(k for k, _p in mine) / possible if possible else None)
    return out


def latest_by_point(session: Session) -> dict[str, tuple[float | None, str, int]]:
    """Each inspected test point's latest score rate, the day it was inspected (district time) and its round."""
    rows = session.execute(select(Inspection.point_id, Inspection.score, Inspection.possible, Inspection.at, Inspection.round_id)
                           .order_by(Inspection.at, Inspection.id))
    return {point: (score / possible if possible else None, at.astimezone(TIMEZONE).date().isoformat(), round_id)
            for point, score, possible, at, round_id in rows}


def _sum(rows: list[PointRow]) -> dict[str, Any]:
    done = [r for r in rows if r.inspected]
    possible, kept = sum(r.possible for r in done), sum(r.score for r in done)
    return {"points": len(rows), "inspected": len(done), "failed_points": sum(r.failed > 0 for r in done), "possible": possible, "score": kept,
            "rate": kept / possible if possible else None}


def of_round(session: Session, layer: ZoneLayer, checklists: Checklists, round_: Round) -> Scores:
    """Every point's score and the sums, from the inspections stored (the latest of each point counts)."""
    latest = rounds.latest(session, round_.id)
    areas = rounds.point_areas(layer)
    table = layer.test_points.set_index(layer.test_points["point_id"].astype(str))
    spots = table.geometry.representative_point()
    points = []
    lost: dict[tuple[str, str], dict[str, Any]] = {}
    for p in round_.points:
        found = latest.get(p.point_id)
        unit = table["unit_id"].get(p.point_id)
        spot = spots.get(p.point_id)
        failed = [i for i in found.items if i["result"] in (Result.FAIL.value, Result.FIXED.value)] if found else []
        points.append(PointRow(p.point_id, str(table["name"].get(p.point_id, p.point_id)), p.point_type, unit if isinstance(unit, str) else "",
                               areas.get(p.point_id, ""), p.inspector, found is not None, len(failed), found.possible if found else 0.0,
                               found.score if found else 0.0, bool(found.far) if found else False,
                               float(spot.x) if spot is not None else 0.0, float(spot.y) if spot is not None else 0.0))
        for i in failed:
            entry = lost.setdefault((p.point_type, i["code"]), {"point_type": p.point_type, "code": i["code"], "failures": 0, "points": 0.0, "repeated": 0})
            entry["failures"] += 1
            entry["points"] += float(i.get("points") or 0.0)
            entry["repeated"] += bool(i.get("repeated"))
    for entry in lost.values():
        item = checklists.item(entry["point_type"], entry["code"])
        entry["text"] = item.text if item else ""
        entry["clause"] = item.clause if item else ""
    groups: dict[str, list[dict[str, Any]]] = {}
    for grouping, key in (("type", lambda r: r.point_type), ("unit", lambda r: r.unit_id), ("area", lambda r: r.area_id)):
        by: dict[str, list[PointRow]] = defaultdict(list)
        for row in points:
            by[key(row)].append(row)
        groups[grouping] = sorted(({"key": k, **_sum(v)} for k, v in by.items()), key=lambda g: (g["rate"] is None, g["rate"] or 0.0, g["key"]))
    worst = sorted(lost.values(), key=lambda e: (-e["points"], -e["failures"], e["point_type"], e["code"]))[:10]
    return Scores(points, groups, _sum(points), worst)
