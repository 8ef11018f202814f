"""The zone layer's lifecycle: an upload (`api.layers.upload_reader`) becomes a draft; a draft is compared with the current
version (what changes, coverage per sub-district before and after, open reports that would go
to another owner), can take gap-fill suggestions, and is published with a note; any earlier
version can be made current again (a rollback, itself a publication). After a publication a
dispatcher chooses which of the affected open reports are reassigned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.auth.roles import Caller
from api.layers import coverage_tables
from api.layers.analysis import wait
from api.layers.store import stored_gpkg, stored_layer
from api.layers.upload_reader import Upload, problems
from api.layers.work import LayerWork
from api.persistence import after_commit
from api.persistence.clock import now
from api.persistence.models import LayerDraft, LayerPublication, LayerVersion, Report
from api.reports import services
from zones.config import STORAGE_CRS, RoutingConfig
from zones.coverage import Coverage, analyse
from zones.diff import diff_layers, rerouted
from zones.layer import ZoneLayer
from zones.summary import summarise
from zones.workflow import TRANSITIONS, Action

#: Reports a dispatcher can still give to another unit: the states that allow ``reassign``.
REASSIGNABLE = tuple(sorted(s.value for s, actions in TRANSITIONS.items() if Action.REASSIGN in actions))
KEPT_DRAFT_LAYERS = 3
#: Changes and gaps a comparison lists (all are counted).
LISTED = 2000


class DraftState(StrEnum):
    """Where a draft is in its life."""

    QUEUED = "queued"  # uploaded, waiting for a worker process (处理中)
    PROCESSING = "processing"  # a worker process reads and validates it (处理中)
    REFUSED = "refused"  # the upload has errors: its findings are kept, no layer
    OPEN = "open"  # a layer to compare, revise, publish or discard
    PUBLISHED = "published"
    DISCARDED = "discarded"

    @property
    def is_pending(self) -> bool:
        """True while the upload is being processed."""
        return self in (DraftState.QUEUED, DraftState.PROCESSING)


def create_draft(session: Session, upload: Upload, current: ZoneLayer, actor: str, work: LayerWork) -> LayerDraft:
    """Store a valid upload as an open draft, and start its coverage analysis."""
    assert upload.layer is not None
    stamp = now()
    warnings = [p for p in problems(upload.reports) if p["severity"] == "warning"]
    draft = LayerDraft(version="", based_on=current.version, gpkg=stored_gpkg(upload.layer), categories_csv=upload.categories_csv,
                       units_csv=upload.units_csv, sources=upload.sources, warnings=warnings, accepted_gaps=[], state=DraftState.OPEN,
                       created_by=actor, created_at=stamp, updated_at=stamp)
    _settle(draft, work)
    session.add(draft)
    return draft


def _settle(draft: LayerDraft, work: LayerWork) -> ZoneLayer:
    """Load the draft's stored content as every worker will (validated again) and take its version:
    the version a worker computes from the stored GeoPackage is the one that gets published."""
    layer = stored_layer(draft, work.max_vertices)
    draft.version = layer.version
    _remember(work, layer)
    return layer


def _remember(work: LayerWork, layer: ZoneLayer) -> None:
    kept = work.kept_drafts
    kept[layer.version] = layer
    while len(kept) > KEPT_DRAFT_LAYERS:
        kept.pop(next(iter(kept)))


def draft_layer(draft: LayerDraft, work: LayerWork) -> ZoneLayer:
    """The draft's layer, loaded once per worker."""
    layer = work.kept_drafts.get(draft.version)
    if layer is None:
        layer = stored_layer(draft, work.max_vertices)
        _remember(work, layer)
    return layer


@dataclass
class Comparison:
    """A draft beside the current version, computed in a child process: every change counted, the
    first `LISTED` of each list given (a layer replaced whole changes every zone, and a serving
    process keeps what a page shows, not a second layer)."""

    counts: dict[str, dict[str, int]]  # `zones.diff.LayerDiff.counts`, of every change
    zones: pd.DataFrame  # the first `LISTED` zone changes (`zones.diff.LayerDiff.zones`)
    test_points: pd.DataFrame  # the first `LISTED` test point changes
    areas: list[dict[str, Any]]  # per sub-district: name, gap area and count before and after, coverage before and after
    affected: pd.DataFrame  # `zones.diff.rerouted` with the report's number and state: every open report that moves
    gaps: gpd.GeoDataFrame  # the draft's `LISTED` largest gaps, with names (`coverage_tables.gaps`)
    changed: gpd.GeoDataFrame  # the listed zone changes with their outlines (`coverage_tables.changed_zones`)
    calendar: dict[str, Any]  # the working calendar before and after (`calendar_change`)


def calendar_change(current: ZoneLayer, layer: ZoneLayer) -> dict[str, Any]:
    """The working calendars of two layers: how many days each lists, its last day, and whether they differ."""

    def summary(days: dict[Any, bool]) -> dict[str, Any]:
        return {"days": len(days), "holidays": sum(not w for w in days.values()), "last": max(days).isoformat() if days else ""}

    return {"before": summary(current.calendar_days), "after": summary(layer.calendar_days), "changed": current.calendar_days != layer.calendar_days}


def _gaps_by_area(result: Coverage) -> pd.DataFrame:
    return result.gaps.groupby("area_id").agg(gap_count=("gap_id", "size"), gap_area_m2=("area_m2", "sum"))


def coverage_change(before: Coverage, after: Coverage) -> list[dict[str, Any]]:
    """Per sub-district (and the district as a whole): gap area and count and coverage, before and after."""
    gaps_b, gaps_a = _gaps_by_area(before), _gaps_by_area(after)
    rows = []
    after_areas = after.areas.set_index("area_id")
    for area in before.areas.to_dict("records"):
        if area["level"] != "subdistrict" or area["area_id"] not in after_areas.index:
            continue
        new = after_areas.loc[area["area_id"]]
        rows.append({
            "area_id": area["area_id"], "name": area["name"], "scope_area_m2": area["area_m2"],
            "gap_count_before": int(gaps_b["gap_count"].get(area["area_id"], 0)), "gap_count_after": int(gaps_a["gap_count"].get(area["area_id"], 0)),
            "gap_area_before_m2": round(float(gaps_b["gap_area_m2"].get(area["area_id"], 0.0)), 1),
            "gap_area_after_m2": round(float(gaps_a["gap_area_m2"].get(area["area_id"], 0.0)), 1),
            "coverage_before": area["coverage_ratio"], "coverage_after": float(new["coverage_ratio"]),
        })
    s_b, s_a = before.summary, after.summary
    rows.append({"area_id": None, "name": None, "scope_area_m2": s_a["scope_area_m2"],
                 "gap_count_before": s_b["gap_count"], "gap_count_after": s_a["gap_count"],
                 "gap_area_before_m2": s_b["gap_area_m2"], "gap_area_after_m2": s_a["gap_area_m2"],
                 "coverage_before": round(s_b["covered_area_m2"] / s_b["scope_area_m2"], 4) if s_b["scope_area_m2"] else 0.0,
                 "coverage_after": round(s_a["covered_area_m2"] / s_a["scope_area_m2"], 4) if s_a["scope_area_m2"] else 0.0})
    return rows


def open_reports(session: Session) -> pd.DataFrame:
    """The reports a new layer could move: every one still reassignable, as routing input."""
    rows = session.execute(select(Report.id, Report.lon, Report.lat, Report.category, Report.accuracy_m, Report.unit_id, Report.state)
                           .where(Report.state.in_(REASSIGNABLE)).order_by(Report.id)).all()
    return pd.DataFrame(rows, columns=["id", "lon", "lat", "category", "accuracy_m", "unit_id", "state"])


def _moved(reports: pd.DataFrame, before: ZoneLayer, after: ZoneLayer, routing: RoutingConfig) -> pd.DataFrame:
    """Of ``reports``, those ``after`` routes to another owner than ``before`` did (and than holds them)."""
    moved = rerouted(reports, before, after, routing)
    return moved.merge(reports[["id", "state", "category"]].rename(columns={"id": "report_id"}), on="report_id", how="left")


def open_reports_key(reports: pd.DataFrame) -> str:
    """A digest of the open reports as they stand: a comparison holds as long as it does."""
    return hashlib.sha1(pd.util.hash_pandas_object(reports, index=False).to_numpy().tobytes()).hexdigest()


def comparison(current: ZoneLayer, layer: ZoneLayer, reports: pd.DataFrame, routing: RoutingConfig) -> Comparison:
    """``layer`` (a draft's) beside ``current``: changes, coverage per sub-district before and after,
    the open ``reports`` it moves, its gaps and its changed zones' outlines."""
    before, after = analyse(current), analyse(layer)
    diff = diff_layers(current, layer)
    zones = diff.zones.head(LISTED)
    return Comparison(diff.counts(), zones, diff.test_points.head(LISTED), coverage_change(before, after), _moved(reports, current, layer, routing),
                      coverage_tables.gaps(layer, after).head(LISTED), coverage_tables.changed_zones(current, layer, zones), calendar_change(current, layer))


def compare(session: Session, current: ZoneLayer, draft: LayerDraft, work: LayerWork) -> Comparison:
    """The open ``draft`` beside ``current``, computed in a child process once per (draft, current
    version, open reports as they stand); waited for at most ``work.compare_wait_s`` (a request
    thread is not held longer), else a `BusyError` (the work goes on)."""
    reports = open_reports(session)
    job = work.comparisons.compare(draft.id, (draft.version, current.version, open_reports_key(reports)), reports, work.routing)
    return wait(job, work.compare_wait_s)


class SuggestionError(ValueError):
    """A suggestion cannot be accepted as asked: names the field and what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _outline(text: str, gap: shapely.Geometry, max_vertices: int) -> shapely.Geometry:
    """A planner's outline for a gap (GeoJSON geometry, WGS84), checked: a valid polygon of few
    enough vertices that overlaps the gap."""
    try:
        shape = shapely.from_geojson(text)
    except (shapely.errors.GEOSException, ValueError):
        raise SuggestionError("outline", "not a GeoJSON geometry") from None
    if shapely.get_type_id(shape) not in (3, 6) or shape.is_empty:
        raise SuggestionError("outline", "not a polygon")
    if shapely.get_num_coordinates(shape) > max_vertices:
        raise SuggestionError("outline", f"more than {max_vertices} vertices")
    shape = shapely.make_valid(shape)
    shape = shapely.union_all([p for p in shapely.get_parts(shape) if shapely.get_type_id(p) in (3, 6)])
    if shape.is_empty or not shapely.intersects(shape, gap) or shapely.area(shapely.intersection(shape, gap)) <= 0:
        raise SuggestionError("outline", "does not overlap the gap")
    return shape


def accept_suggestions(draft: LayerDraft, gap_ids: list[str], work: LayerWork, *, outline: str | None = None, unit_id: str | None = None) -> list[str]:
    """Add the draft's gap-fill suggestions for ``gap_ids`` to it as zones (zone id ``GAP-<gap id>``,
    all duties); returns the ids added. For one gap, ``outline`` (a GeoJSON polygon the planner
    drew) and ``unit_id`` replace the suggested outline and owner. Unknown ids raise `KeyError`
    naming them; an unusable outline or owner, `SuggestionError`."""
    layer = draft_layer(draft, work)
    suggestions = work.coverage(layer).suggestions
    wanted = suggestions[suggestions["zone_id"].isin([f"GAP-{g}" for g in gap_ids])].copy()
    missing = sorted(set(gap_ids) - {z.removeprefix("GAP-") for z in wanted["zone_id"]})
    if missing:
        raise KeyError(", ".join(missing))
    if (outline is not None or unit_id is not None) and len(wanted) != 1:
        raise SuggestionError("gap_ids", "an outline or an owner is given for one gap at a time")
    if unit_id is not None:
        if not layer.knows_unit(unit_id):
            raise SuggestionError("unit_id", f"no unit {unit_id!r} in the layer")
        wanted["unit_id"] = unit_id
    if outline is not None:
        wanted["geometry"] = [_outline(outline, wanted.geometry.iloc[0], work.max_vertices)]
    new_zones = wanted.drop(columns=["area_m2"])
    new_zones["unit_name"] = [layer.unit_names.get(u, "") for u in new_zones["unit_id"]]
    zones = gpd.GeoDataFrame(pd.concat([layer.zones, new_zones], ignore_index=True), geometry="geometry", crs=STORAGE_CRS)
    revised = ZoneLayer.build(zones, layer.test_points, layer.areas, layer.categories, units=layer.unit_table, streets=layer.streets, scope=layer.scope)
    draft.gpkg = stored_gpkg(revised)
    _settle(draft, work)
    draft.accepted_gaps = [*draft.accepted_gaps, *gap_ids]
    draft.updated_at = now()
    return [f"GAP-{g}" for g in gap_ids]


def _summary(layer: ZoneLayer, previous: ZoneLayer | None) -> dict[str, Any]:
    figures = summarise(layer.zones, layer.test_points, layer.areas)
    summary: dict[str, Any] = {"zones": figures["zones"]["count"], "units": figures["zones"]["units"], "test_points": figures["test_points"]["count"],
                               "areas": len(figures["areas"])}
    if previous is not None:
        summary["changes"] = diff_layers(previous, layer).counts()
    return summary


def _store_version(session: Session, layer: ZoneLayer, gpkg: bytes, categories_csv: str, units_csv: str | None, actor: str) -> LayerVersion:
    row = session.scalars(select(LayerVersion).where(LayerVersion.version == layer.version)).first()
    if row is None:
        row = LayerVersion(version=layer.version, gpkg=gpkg, categories_csv=categories_csv, units_csv=units_csv, created_at=now(),
                           created_by=actor, is_current=False, summary=_summary(layer, None))
        session.add(row)
    return row


def _keep_current(session: Session, current: ZoneLayer) -> None:
    """Store the current layer when it came from the configured files, so that it can be rolled back to."""
    if session.scalar(select(LayerVersion.id).where(LayerVersion.version == current.version)) is not None:
        return
    row = _store_version(session, current, stored_gpkg(current), current.categories.to_csv(index=False),
                         current.unit_table.to_csv(index=False) if current.unit_table is not None else None, "files")
    row.is_current = True
    session.add(LayerPublication(version=current.version, previous_version=None, kind="files", note="", published_by="files",
                                 published_at=row.created_at, summary=row.summary, affected=[]))


def publish(session: Session, current: ZoneLayer, layer: ZoneLayer, routing: RoutingConfig, install: Callable[[ZoneLayer], None] | None, *,
            gpkg: bytes, categories_csv: str, units_csv: str | None, actor: str, kind: str, note: str, draft: LayerDraft | None = None) -> LayerPublication:
    """Make ``layer`` the current version in the caller's transaction, recording who, why and which
    open reports it routes to another owner. ``install`` (this worker's, if it serves) takes it once
    the transaction commits (other workers when they next check the current version); never if it
    rolls back."""
    _keep_current(session, current)
    row = _store_version(session, layer, gpkg, categories_csv, units_csv, actor)
    session.flush()
    session.execute(update(LayerVersion).values(is_current=False))
    row.is_current = True
    affected = _moved(open_reports(session), current, layer, routing)
    publication = LayerPublication(version=layer.version, previous_version=current.version, kind=kind, draft_id=draft.id if draft else None,
                                   note=note, published_by=actor, published_at=now(), summary=_summary(layer, current),
                                   affected=[{k: (None if pd.isna(v) else v) for k, v in item.items() if k != "reason"}
                                             for item in affected.astype(object).to_dict("records")])
    session.add(publication)
    if draft is not None:
        draft.state = DraftState.PUBLISHED
        draft.updated_at = publication.published_at
    if install is not None:
        after_commit(session, lambda: install(layer))
    return publication


def publish_draft(session: Session, draft: LayerDraft, current: ZoneLayer, actor: str, note: str, work: LayerWork) -> LayerPublication:
    """Publish an open draft."""
    layer = draft_layer(draft, work)
    return publish(session, current, layer, work.routing, work.install, gpkg=draft.gpkg, categories_csv=draft.categories_csv,
                   units_csv=draft.units_csv, actor=actor, kind="draft", note=note, draft=draft)


def rollback(session: Session, version: str, current: ZoneLayer, actor: str, note: str, work: LayerWork) -> LayerPublication:
    """Make the stored ``version`` current again, as a new publication. `LookupError` when unknown."""
    row = session.scalars(select(LayerVersion).where(LayerVersion.version == version)).first()
    if row is None:
        raise LookupError(version)
    layer = stored_layer(row, work.max_vertices)
    return publish(session, current, layer, work.routing, work.install, gpkg=row.gpkg, categories_csv=row.categories_csv, units_csv=row.units_csv,
                   actor=actor, kind="rollback", note=note)


def awaiting_reassignment(session: Session, version: str) -> LayerPublication | None:
    """The publication of the current ``version`` whose moved reports no dispatcher has reviewed yet."""
    latest = session.scalars(select(LayerPublication).order_by(LayerPublication.id.desc()).limit(1)).first()
    if latest is None or latest.version != version or not latest.affected or latest.reassigned_at is not None:
        return None
    return latest


@dataclass
class Reassignment:
    """What a dispatcher's reassignment after a publication did."""

    moved: list[int]
    skipped: list[int]  # closed meanwhile, already with the new owner, or moved on by someone else


def reassign(session: Session, layer: ZoneLayer, publication: LayerPublication, report_ids: list[int], caller: Caller, note: str,
             worker: services.WorkerState) -> Reassignment:
    """Give each chosen report of ``publication.affected`` to its new owner, recorded in its history
    with ``note`` (naming the layer version); reports no longer reassignable are skipped."""
    chosen = {item["report_id"]: item for item in publication.affected if item["report_id"] in set(report_ids)}
    moved, skipped = [], []
    for report_id, item in sorted(chosen.items()):
        report = session.get(Report, report_id)
        if report is None or report.state not in REASSIGNABLE or report.unit_id == item["to_unit_id"]:
            skipped.append(report_id)
            continue
        services.transition(session, layer, report, caller, Action.REASSIGN.value, note=note, evidence=[], unit_id=item["to_unit_id"], worker=worker)
        report.zone_id = item["to_zone_id"]
        report.zone_version = publication.version
        moved.append(report_id)
    publication.reassigned = sorted({*(publication.reassigned or []), *moved})
    publication.reassigned_by = caller.actor
    publication.reassigned_at = now()
    return Reassignment(moved, skipped)
