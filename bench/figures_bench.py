"""The figures at scale: ``GET /api/v1/units`` (every unit, all time), ``GET /api/v1/figures``
(sub-districts, this month) and ``/console/stats`` (units, this month) on 10^4, 10^5 and 10^6
historical reports, against the baseline of the same figures recomputed from the history (every
step of the period's reports loaded and folded), measured in the same run on the same database.

The history is synthetic but consistent: a year of reports spread over the demo's units,
sub-districts, categories and sources; most dispatched, rectified, verified and published, some
sent back, extended, disputed and reassigned, held, or still open (overdue when old); each
report's stored facts are those its steps give. Requests go through the app in this process
(a dispatcher's token); times are the median of ``--runs`` after one warm-up.

    python bench/figures_bench.py [--sizes 10000,100000,1000000] [--runs 3] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from api import create_app
from api.auth.callers import create_token
from api.figures import queries
from api.layers.live import stop_jobs
from api.persistence.models import Report, Transition
from geodata.demo import write_demo
from zones import figures
from zones.figures import Step, facts_of
from zones.workflow import State
from zones.worktime import TIMEZONE, WorkCalendar

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CHUNK = 20_000
#: Paths through the loop, with their shares: (steps after the report, hours after it each comes).
PATHS = (
    (0.62, ("dispatch", "rectify", "verify", "publish")),
    (0.10, ("dispatch", "rectify", "rework", "rectify", "verify", "publish")),
    (0.05, ("dispatch", "request_extension", "approve_extension", "rectify", "verify", "publish")),
    (0.04, ("dispatch", "dispute", "reassign", "rectify", "verify")),
    (0.03, ("dispatch", "dispute", "overrule", "rectify")),
    (0.04, ("dispatch", "hold")),
    (0.12, ("dispatch",)),
)
STATE_AFTER = {"dispatch": "dispatched", "rectify": "rectified", "verify": "verified", "publish": "published", "rework": "rework",
               "request_extension": "dispatched", "approve_extension": "dispatched", "dispute": "disputed", "reassign": "dispatched",
               "overrule": "dispatched", "hold": "held"}


def history(count: int, units: list[str], areas: list[str], categories: list[str], now: datetime, seed: int, start_id: int) -> tuple[list, list]:
    """``count`` reports (ids from ``start_id``) and their steps, as rows."""
    rng, calendar = random.Random(seed), WorkCalendar()
    shares, paths = zip(*PATHS, strict=True)
    reports, steps = [], []
    for report_id in range(start_id, start_id + count):
        created = now - timedelta(days=rng.random() * 365)
        unit = rng.choice(units)
        path = rng.choices(paths, weights=shares)[0]
        at, deadline, trail = created, created + timedelta(hours=24), [Step("submit", created, None, None)]
        for action in path:
            at += timedelta(hours=rng.choice((0.5, 2, 6, 20, 30)))
            if at > now:
                break
            due = None
            if action in ("dispatch", "reassign", "overrule"):
                unit = rng.choice(units) if action == "reassign" else unit
                deadline = due = at + timedelta(hours=24)
            elif action == "approve_extension":
                deadline = due = deadline + timedelta(days=3)
            trail.append(Step(action, at, unit, due))
        state = STATE_AFTER.get(trail[-1].action, State.SUBMITTED.value)
        reports.append({
            "id": report_id, "request_hash": "h", "lon": 120.4, "lat": 36.3, "input_crs": "wgs84", "input_lon": 120.4, "input_lat": 36.3,
            "accuracy_m": 5.0, "category": rng.choice(categories), "description": "", "photos": [], "source": rng.choice(("citizen", "leader", "inspection")),
            "created_at": created, "updated_at": trail[-1].at, "state": state, "unit_id": unit, "deadline_at": deadline,
            "review_at": trail[-1].at + timedelta(days=30) if state == "held" else None, "route_status": "routed", "rule": "zone",
            "co_owner_unit_ids": "", "candidate_unit_ids": "", "zone_version": "bench", "reason": "", "row_version": 1,
            "area_id": rng.choice(areas), "public_ref": uuid.uuid4().hex[:14].upper(), **facts_of(trail, calendar).as_row()})
        steps += [{"report_id": report_id, "action": s.action, "from_state": None, "to_state": STATE_AFTER.get(s.action, "submitted"),
                   "unit_id": s.unit_id, "actor": "bench", "note": "", "evidence": [], "due_at": s.due_at, "at": s.at} for s in trail]
    return reports, steps


def baseline(session: Any, layer: Any, period: queries.Period, now: datetime) -> None:
    """The unit figures of ``period`` recomputed from the history: every step of its reports loaded
    and folded into facts, counted per unit in pandas, then rated as the service rates them."""
    rows = session.execute(sa.select(Transition.report_id, Transition.action, Transition.at, Transition.unit_id, Transition.due_at, Report.unit_id,
                                     Report.state, Report.deadline_at)
                           .join(Report, Report.id == Transition.report_id)
                           .where(Report.created_at >= period.start, Report.created_at < period.end).order_by(Transition.report_id, Transition.id)).all()
    calendar, trails, reports = WorkCalendar(), {}, {}
    for report_id, action, at, unit, due, owner, state, deadline in rows:
        trails.setdefault(report_id, []).append(Step(action, at, unit, due))
        reports[report_id] = (owner, state, deadline)
    facts = pd.DataFrame([{"key": reports[r][0], "state": reports[r][1], "deadline_at": reports[r][2], **facts_of(trail, calendar).as_row()}
                          for r, trail in trails.items()])
    late = facts["state"].isin(["dispatched", "rework", "escalated"]) & (facts["deadline_at"] < now)
    fixed = facts["fixed_at"].notna()
    counts = pd.DataFrame({"key": facts["key"], "received": 1, "dispatched": facts["dispatched_at"].notna(), "fixed": fixed,
                           "fixed_on_time": fixed & facts["fixed_on_time"].fillna(False).astype(bool), "due": fixed | late,
                           "rectified": facts["rectified_at"].notna(), "reworked": facts["reworks"] > 0, "extended": facts["extensions"] > 0,
                           "hours_sum": facts["rectify_hours"].fillna(0.0), "hours_n": facts["rectify_hours"].notna()})
    empty = queries.frames(session, layer, "unit", queries.Period(queries.EPOCH, queries.EPOCH), now)  # the other inputs' columns, no rows
    hours = facts.dropna(subset=["rectify_hours"]).assign(bucket=lambda f: (f["rectify_hours"] * figures.QUARTERS_PER_HOUR).astype(int), n=1)
    figures.figures(counts, hours[["key", "bucket", "n"]], empty["now_counts"], empty["disputes"], "unit", keys=list(layer.known_units))


def timed(call: Any, runs: int) -> float:
    """Median milliseconds of ``runs`` calls after one warm-up."""
    call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="figures-bench-"))
    demo = write_demo(work / "demo")
    now = datetime.now(UTC)
    print(f"{'reports':>9} {'request':<34} {'ms':>9} {'baseline ms':>12} {'ratio':>7}")
    for size in (int(s) for s in args.sizes.split(",")):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        if args.database == "sqlite":
            url = f"sqlite:///{work / f'{size}.sqlite'}"
        else:
            with sa.create_engine(POSTGRES).begin() as connection:
                connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
            url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
        app = create_app({"DATA_DIR": str(work / str(size)), "DATABASE_URL": url, "LAYER_DIR": str(demo.root), "LAYER_JOBS": 0})
        database = app.extensions["zonemap.db"]
        layer = app.extensions["zonemap.layer"]
        areas = [str(a) for a in queries.keys_of(layer, "area")]
        started = time.perf_counter()
        for first in range(0, size, CHUNK):
            reports, steps = history(min(CHUNK, size - first), list(layer.known_units), areas, list(layer.category_table), now, first, first + 1)
            with database.session() as session:
                session.execute(sa.insert(Report.__table__), reports)
                session.execute(sa.insert(Transition.__table__), steps)
        with database.session() as session:
            token = create_token(session, "dispatcher")
            steps_stored = session.scalar(sa.select(sa.func.count()).select_from(Transition))
        print(f"# {size:,} reports, {steps_stored:,} steps stored in {time.perf_counter() - started:.0f} s ({args.database})")
        client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
        month = queries.Period(queries.Period.month_of(now.astimezone(TIMEZONE).date()).first, now.astimezone(TIMEZONE).date())
        every_day = queries.all_time(now.astimezone(TIMEZONE).date())

        def get(path: str) -> None:
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)

        def from_history(period: queries.Period) -> None:
            with database.session() as session:
                baseline(session, layer, period, now)

        history_all = timed(lambda: from_history(every_day), args.runs)
        history_month = timed(lambda: from_history(month), args.runs)
        for label, path, base in (("GET /api/v1/units (all time)", "/api/v1/units", history_all),
                                  ("GET /api/v1/figures?by=area (month)", "/api/v1/figures?by=area", history_month),
                                  ("GET /console/stats (month)", "/console/stats", history_month)):
            ms = timed(lambda p=path: get(p), args.runs)
            print(f"{size:>9,} {label:<34} {ms:>9.0f} {base:>12.0f} {base / ms:>6.1f}×")
        stop_jobs(app)
        database.engine.dispose()
        if args.database == "postgresql":
            with sa.create_engine(POSTGRES).begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
