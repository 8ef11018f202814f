"""Inspection rounds: made from a scope (point types, sub-districts, a unit's own points, every
point or a sample of N drawn reproducibly from a seed), their points shared among inspectors; a
re-inspection (回头看) made from a round's failed items in one step. No Flask."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.roles import Caller, Role
from api.persistence.clock import now
from api.persistence.models import Inspection, Round, RoundPoint, User
from zones.checklists import Checklists, Result
from zones.config import STORAGE_CRS
from zones.enums import ReportSource
from zones.errors import InvalidInputError, NotAllowedError
from zones.layer import ZoneLayer

#: The "4+1" levels a round is made at (its cases' source); the citizens' channel is not a round.
LEVELS = (ReportSource.LEADER.value, ReportSource.INSPECTION.value, ReportSource.SELF_CHECK.value, ReportSource.SPOT_CHECK.value)
REGULAR, SELF_CHECK, RECHECK = "regular", "self_check", "recheck"
#: Points one round may hold.
MAX_POINTS = 2000


@dataclass(frozen=True)
class Scope:
    """Which test points a round inspects: of these types (all with a checklist when empty), in
    these sub-districts (all when empty), adopted by ``unit_id`` (a self-check), all of them or a
    sample of ``sample`` drawn with ``seed``."""

    types: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    unit_id: str | None = None
    sample: int | None = None
    seed: int | None = None

    def as_json(self) -> dict[str, Any]:
        """As stored with the round."""
        return {"types": list(self.types), "areas": list(self.areas), "unit_id": self.unit_id, "sample": self.sample, "seed": self.seed}


@dataclass(frozen=True)
class RoundSpec:
    """What a new round is asked to be."""

    name: str
    level: str
    first_day: date
    last_day: date
    scope: Scope
    inspectors: tuple[str, ...] = field(default=())


_AREAS_LOCK = threading.Lock()
_AREAS: dict[str, dict[str, str]] = {}


def point_areas(layer: ZoneLayer) -> dict[str, str]:
    """Each test point's sub-district (its area id; "" when it lies in none)."""
    with _AREAS_LOCK:
        if layer.version in _AREAS:
            return _AREAS[layer.version]
    areas = layer.areas[layer.areas["level"] == "subdistrict"] if "level" in layer.areas.columns else layer.areas
    points = gpd.GeoDataFrame({"point_id": layer.test_points["point_id"].astype(str).to_numpy()},
                              geometry=shapely.point_on_surface(layer.test_points.geometry.to_numpy()), crs=STORAGE_CRS)
    joined = points.sjoin(areas[["area_id", "geometry"]], predicate="within", how="left").drop_duplicates("point_id")
    found = {str(p): "" if not isinstance(a, str) else a for p, a in zip(joined["point_id"], joined["area_id"], strict=True)}
    with _AREAS_LOCK:
        _AREAS[layer.version] = found
    return found


def chosen_points(layer: ZoneLayer, checklists: Checklists, scope: Scope) -> list[tuple[str, str]]:
    """The (point id, type) pairs ``scope`` takes, in the layer's order (a sample: in the order drawn)."""
    areas = point_areas(layer)
    known_types = set(checklists.types)
    wanted_types = set(scope.types) or known_types
    table = layer.test_points
    pairs = [(str(p), str(t)) for p, t, u in zip(table["point_id"], table["type"], table["unit_id"], strict=True)
             if str(t) in wanted_types and str(t) in known_types and (not scope.areas or areas.get(str(p)) in scope.areas)
             and (scope.unit_id is None or u == scope.unit_id)]
    if scope.sample is not None and scope.sample < len(pairs):
        pairs = random.Random(scope.seed).sample(sorted(pairs), scope.sample)
    return pairs


def create(session: Session, layer: ZoneLayer, checklists: Checklists, spec: RoundSpec, caller: Caller) -> Round:
    """Make a round from ``spec``: dispatchers make any level, a unit only a self-check of its own
    adopted points; the points are shared among the inspectors in turn (none: anyone on the round)."""
    scope = spec.scope
    if caller.role == Role.UNIT:
        if spec.level != ReportSource.SELF_CHECK.value:
            raise NotAllowedError("a unit makes only self-check rounds (自查) of its own points")
        scope = Scope(scope.types, scope.areas, caller.unit_id, scope.sample, scope.seed)
    elif caller.role != Role.DISPATCHER:
        raise NotAllowedError(f"a {caller.role.value} does not make rounds")
    _check(spec, layer, checklists)
    strangers = [name for name in spec.inspectors if name not in inspectors(session)]
    if strangers:
        raise InvalidInputError(f"inspectors: not active inspectors' accounts: {', '.join(strangers)}", field="inspectors", problems=strangers)
    if scope.sample is not None and scope.seed is None:
        scope = Scope(scope.types, scope.areas, scope.unit_id, scope.sample, random.SystemRandom().randrange(1, 2**31))  # kept, so the draw can be made again
    pairs = chosen_points(layer, checklists, scope)
    if not pairs:
        raise InvalidInputError("scope: no test point with a checklist is in it", field="scope", problems=["no test point"])
    if len(pairs) > MAX_POINTS:
        raise InvalidInputError(f"scope: {len(pairs)} points, more than a round's {MAX_POINTS}: take a sample", field="scope",
                                problems=[f"more than {MAX_POINTS} points"])
    kind = SELF_CHECK if spec.level == ReportSource.SELF_CHECK.value else REGULAR
    made = Round(name=spec.name.strip(), level=spec.level, kind=kind, first_day=spec.first_day, last_day=spec.last_day, scope=scope.as_json(),
                 checklist_version=checklists.version, layer_version=layer.version, unit_id=scope.unit_id, parent_id=None, created_by=caller.actor,
                 created_at=now())
    team = list(spec.inspectors) or [None]
    made.points = [RoundPoint(point_id=p, point_type=t, inspector=team[n % len(team)], codes=None) for n, (p, t) in enumerate(pairs)]
    session.add(made)
    session.flush()
    return made


def _check(spec: RoundSpec, layer: ZoneLayer, checklists: Checklists) -> None:
    if not spec.name.strip() or len(spec.name) > 200:
        raise InvalidInputError("name: 1 to 200 characters", field="name", problems=["1 to 200 characters"])
    if spec.level not in LEVELS:
        raise InvalidInputError(f"level: one of {', '.join(LEVELS)}", field="level", problems=[f"one of {', '.join(LEVELS)}"])
    if spec.last_day < spec.first_day:
        raise InvalidInputError("last_day: on or after first_day", field="last_day", problems=["on or after first_day"])
    unknown = [t for t in spec.scope.types if t not in checklists.types]
    if unknown:
        raise InvalidInputError(f"scope.types: no checklist for {', '.join(unknown)}", field="scope.types", problems=[f"no checklist for {u}" for u in unknown])
    known_areas = set(point_areas(layer).values())
    if any(a not in known_areas for a in spec.scope.areas):
        raise InvalidInputError("scope.areas: not sub-districts of the layer", field="scope.areas", problems=["unknown sub-district"])
    if spec.scope.sample is not None and spec.scope.sample < 1:
        raise InvalidInputError("scope.sample: at least 1", field="scope.sample", problems=["at least 1"])


def failures(session: Session, round_: Round) -> dict[str, list[str]]:
    """The items that failed (or were fixed on the spot) at each point in the round's latest inspection of it."""
    out: dict[str, list[str]] = {}
    for inspection in latest(session, round_.id).values():
        failed = [i["code"] for i in inspection.items if i["result"] in (Result.FAIL.value, Result.FIXED.value)]
        if failed:
            out[inspection.point_id] = failed
    return out


def latest(session: Session, round_id: int) -> dict[str, Inspection]:
    """Each point's latest inspection in the round."""
    rows = session.scalars(select(Inspection).where(Inspection.round_id == round_id).order_by(Inspection.at, Inspection.id))
    return {row.point_id: row for row in rows}


def recheck(session: Session, round_: Round, caller: Caller, first_day: date, last_day: date) -> Round:
    """A re-inspection (回头看) of ``round_``'s failed items, point by point, by the same inspectors."""
    if caller.role != Role.DISPATCHER and not (caller.role == Role.UNIT and caller.unit_id == round_.unit_id):
        raise NotAllowedError("re-inspections are made by dispatchers (a self-check's by its unit)")
    failed = failures(session, round_)
    if not failed:
        raise InvalidInputError("round: no failed item to go back to", field="round", problems=["no failed item"])
    if last_day < first_day:
        raise InvalidInputError("last_day: on or after first_day", field="last_day", problems=["on or after first_day"])
    made = Round(name=f"{round_.name}（回头看）"[:200], level=round_.level, kind=RECHECK, first_day=first_day, last_day=last_day, scope=round_.scope,
                 checklist_version=round_.checklist_version, layer_version=round_.layer_version, unit_id=round_.unit_id, parent_id=round_.id,
                 created_by=caller.actor, created_at=now())
    made.points = [RoundPoint(point_id=p.point_id, point_type=p.point_type, inspector=p.inspector, codes=failed[p.point_id])
                   for p in round_.points if p.point_id in failed]
    session.add(made)
    session.flush()
    return made


def inspectors(session: Session) -> list[str]:
    """The usernames of the inspectors' accounts that are active, in order."""
    return list(session.scalars(select(User.username).where(User.role == Role.INSPECTOR.value, User.active.is_(True)).order_by(User.username)))


def assign(session: Session, round_: Round, caller: Caller, inspector: str | None, point_ids: list[str]) -> int:
    """Give ``point_ids`` of ``round_`` to ``inspector`` (an active inspector's username; None: anyone
    on the round); dispatchers do, and a unit for its own self-check. Returns how many points changed."""
    if caller.role != Role.DISPATCHER and not (caller.role == Role.UNIT and round_.unit_id is not None and caller.unit_id == round_.unit_id):
        raise NotAllowedError("points are assigned by dispatchers (a self-check's by its unit)")
    if inspector is not None and inspector not in inspectors(session):
        raise InvalidInputError(f"inspector: {inspector} is not an active inspector's account", field="inspector", problems=["not an inspector"])
    if not point_ids:
        raise InvalidInputError("point_ids: choose at least one point", field="point_ids", problems=["at least one point"])
    held = {p.point_id: p for p in round_.points}
    unknown = [p for p in point_ids if p not in held]
    if unknown:
        raise InvalidInputError(f"point_ids: not in round {round_.id}: {', '.join(unknown[:10])}", field="point_ids", problems=unknown[:10])
    changed = 0
    for point in dict.fromkeys(point_ids):
        changed += held[point].inspector != inspector
        held[point].inspector = inspector
    session.flush()
    return changed


def may_inspect(caller: Caller, round_: Round, point: RoundPoint) -> bool:
    """Whether ``caller`` records ``point`` of ``round_``: its inspector (or any inspector when it has
    none), a dispatcher, or the unit of its own self-check."""
    if caller.role == Role.DISPATCHER:
        return True
    if caller.role == Role.UNIT:
        return round_.unit_id is not None and caller.unit_id == round_.unit_id
    return caller.role == Role.INSPECTOR and point.inspector in (None, caller.username)


def _seen_by(caller: Caller) -> Any:
    """The rounds ``caller`` sees, as a query: every round for dispatchers, planners and leaders; a
    unit's own self-checks; an inspector's rounds with points for them; none for anyone else."""
    query = select(Round)
    if caller.role == Role.UNIT:
        return query.where(Round.unit_id == caller.unit_id)
    if caller.role == Role.INSPECTOR:
        return query.where(Round.id.in_(select(RoundPoint.round_id).where((RoundPoint.inspector == caller.username) | RoundPoint.inspector.is_(None))))
    return query if caller.role in (Role.DISPATCHER, Role.PLANNER, Role.LEADER) else query.where(False)


def rounds_of(session: Session, caller: Caller) -> list[Round]:
    """The rounds ``caller`` sees (`_seen_by`), newest first."""
    return list(session.scalars(_seen_by(caller).order_by(Round.id.desc())))


def visible(session: Session, caller: Caller, round_id: int) -> Round | None:
    """Round ``round_id`` if ``caller`` sees it."""
    return session.scalars(_seen_by(caller).where(Round.id == round_id)).first()
