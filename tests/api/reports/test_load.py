"""The service under load, faults and layer switches: gunicorn with 4 workers on PostgreSQL, and
the single-process SQLite default.

32 clients submit reports (10 % retried with the same Idempotency-Key, some reusing a key with
another body) while others move reports through the workflow, sometimes racing for the same
report. Meanwhile a worker is killed with SIGKILL (PostgreSQL), a planner publishes a new zone
layer, and the whole server is killed with SIGKILL and restarted. Clients resend a submission
whose answer was lost, as the phone app does. Afterwards the database must hold every
acknowledged report exactly once with a consistent history, one outbox message per notified
step, the per-unit figures equal to a recount, and every report routed exactly as the layer
version it names routes it.

CI runs 1,200 reports; ``pytest --full-load tests/api/reports/test_load.py`` runs 5,000.
"""

from __future__ import annotations

import http.client
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.auth.callers import create_token
from api.layers.store import stored_layer
from api.persistence.models import LayerVersion
from api.reports import notifications
from api.routing.batch import LayerFiles, load_zone_layer
from tests.api.layers.test_layers import changed_layer, multipart
from tests.support.server import Server, call, publish_layer
from zones.config import RoutingConfig
from zones.layer import ZoneLayer
from zones.router import route_one
from zones.schema import MAX_VERTICES
from zones.workflow import TRANSITIONS, Action, State

CLIENTS = 32
RETRY_SHARE, CONFLICT_SHARE, MOVE_SHARE, RACE_SHARE = 0.10, 0.02, 0.30, 0.05
PATHS = [["rectify", "verify", "publish"], ["rectify", "rework", "rectify", "verify"], ["dispute"], ["rectify"], ["reject"]]
pytestmark = pytest.mark.slow


@dataclass
class Ledger:
    """What the clients were told."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: dict[str, int] = field(default_factory=dict)  # idempotency key -> report id
    bodies: dict[str, dict] = field(default_factory=dict)
    created: Counter = field(default_factory=Counter)  # key -> 201 answers
    statuses: Counter = field(default_factory=Counter)  # (kind, status)
    resent: int = 0  # submissions sent again after a lost answer
    unexpected: list[str] = field(default_factory=list)

    def note(self, kind: str, status: int, detail: Any = None, allowed: tuple[int, ...] = ()) -> None:
        with self.lock:
            self.statuses[(kind, status)] += 1
            if status not in allowed:
                self.unexpected.append(f"{kind} -> {status}: {detail}")


class Load:
    """The clients, the chaos and the checks of one run."""

    def __init__(self, server: Server, tokens: dict[str, str], reports: pd.DataFrame, count: int, seed: int) -> None:
        self.server, self.tokens, self.count = server, tokens, count
        self.sample = reports.sample(n=count, replace=count > len(reports), random_state=seed).to_dict("records")
        self.ledger = Ledger()
        self.run = f"{seed}-{time.time_ns()}"
        self.done = 0
        self.deadline = time.monotonic() + 600
        self.faults_done = threading.Event()  # the last tenth of the reports is sent after every fault

    def _send(self, method: str, path: str, body: dict | None, token: str, headers: dict | None = None, *, resend: bool) -> tuple[int, Any]:
        """A request; a lost answer is resent (submissions only) until the server is back."""
        while True:
            try:
                return call(method, self.server.base + path, body, token, headers)
            except (OSError, http.client.HTTPException):  # refused, reset, or cut off mid-answer by a kill
                if not resend or time.monotonic() > self.deadline:
                    return -1, None
                with self.ledger.lock:
                    self.ledger.resent += 1
                time.sleep(0.2)

    def submit(self, i: int) -> None:
        if i >= 0.9 * self.count:
            self.faults_done.wait(timeout=max(0.0, self.deadline - time.monotonic()))
        row = self.sample[i]
        key = f"load-{self.run}-{i}"
        body = {"lon": row["lon"], "lat": row["lat"], "crs": row["crs"], "accuracy_m": row["accuracy_m"], "category": row["category"],
                "description": f"{row['description']} #{i}", "reporter_contact": f"1390000{i:04d}"}
        status, answer = self._send("POST", "/api/v1/reports", body, self.tokens["public"], {"Idempotency-Key": key}, resend=True)
        self.ledger.note("submit", status, answer, (201, 200))
        if status not in (200, 201):
            return
        with self.ledger.lock:
            self.ledger.acked[key], self.ledger.bodies[key] = answer["id"], body
            self.ledger.created[key] += status == 201
        rng = random.Random(i)
        if rng.random() < RETRY_SHARE:
            again, replay = self._send("POST", "/api/v1/reports", body, self.tokens["public"], {"Idempotency-Key": key}, resend=True)
            self.ledger.note("retry", again, replay, (200,))
            if again == 200 and replay["id"] != answer["id"]:
                self.ledger.unexpected.append(f"retry of {key} answered report {replay['id']}, not {answer['id']}")
        if rng.random() < CONFLICT_SHARE:
            other, _ = self._send("POST", "/api/v1/reports", {**body, "description": "另一件事"}, self.tokens["public"], {"Idempotency-Key": key}, resend=True)
            self.ledger.note("conflict", other, None, (409,))
        if answer["state"] == "dispatched" and rng.random() < MOVE_SHARE:
            self.move(answer["id"], rng.choice(PATHS))
        if answer["state"] == "dispatched" and rng.random() < RACE_SHARE:
            with ThreadPoolExecutor(2) as pair:  # two dispatchers act on the same report at once
                list(pair.map(lambda action: self.move(answer["id"], [action]), ["rectify", "dispute"]))
        with self.ledger.lock:
            self.done += 1

    def move(self, report_id: int, actions: list[str]) -> None:
        for action in actions:
            status, answer = self._send("POST", f"/api/v1/reports/{report_id}/transitions", {"action": action, "note": "现场核查"},
                                        self.tokens["dispatcher"], resend=False)
            # 409: another client moved it first (illegal now, or a concurrent change); -1: the server was killed.
            self.ledger.note("move", status, answer, (200, 409, -1))
            if status != 200:
                return

    def chaos(self, steps: list[tuple[float, str]], layer_upload: bytes, events: list[str]) -> None:
        """At each share of the submissions done, do one fault: kill a worker, publish a layer,
        kill the server (and start it again). The last tenth of the reports waits for them all."""
        try:
            for share, what in steps:
                while self.done < share * self.count and time.monotonic() < self.deadline:
                    time.sleep(0.05)
                if what == "kill-worker":
                    workers = Path(f"/proc/{self.server.process.pid}/task/{self.server.process.pid}/children").read_text().split()
                    os.kill(int(workers[0]), 9)
                elif what == "publish-layer":  # read by a worker process while the reports go on
                    publish_layer(self.server.base, self.tokens["planner"], *multipart(layer=(layer_upload, "layer.gpkg")))
                elif what == "kill-server":
                    self.server.kill()
                    self.server.start()
                events.append(f"{what} after {self.done} reports")
        finally:
            self.faults_done.set()


def _history_problems(session: Session) -> list[str]:
    """Every report's history starts with submit, chains state to state along legal moves, and
    ends in the report's state; dispatches and reports agree on the unit."""
    problems = []
    states = dict(session.execute(sa.text("SELECT id, state FROM reports")).all())
    steps: dict[int, list] = {}
    for row in session.execute(sa.text("SELECT report_id, action, from_state, to_state FROM transitions ORDER BY id")):
        steps.setdefault(row.report_id, []).append(row)
    for report_id, state in states.items():
        chain = steps.get(report_id, [])
        if not chain or (chain[0].action, chain[0].from_state, chain[0].to_state) != ("submit", None, "submitted"):
            problems.append(f"report {report_id}: history does not start with submit")
            continue
        for before, after in zip(chain, chain[1:], strict=False):
            legal = TRANSITIONS.get(State(before.to_state), {}).get(Action(after.action))
            if after.from_state != before.to_state or legal is None or legal.value != after.to_state:
                problems.append(f"report {report_id}: {before.to_state} -{after.action}-> {after.to_state} is not a legal step")
        if chain[-1].to_state != state:
            problems.append(f"report {report_id}: state {state} but history ends in {chain[-1].to_state}")
    return problems


def _recount(session: Session) -> dict[str, tuple[int, int]]:
    """Reports received and dispatched per present unit, counted in SQL from the reports and their steps."""
    dispatched = "EXISTS (SELECT 1 FROM transitions t WHERE t.report_id = r.id AND t.action IN ('dispatch', 'reassign') AND t.unit_id IS NOT NULL)"
    rows = session.execute(sa.text(f"SELECT r.unit_id, count(*), sum(CASE WHEN {dispatched} THEN 1 ELSE 0 END) FROM reports r GROUP BY r.unit_id"))
    return {unit: (int(received), int(sent)) for unit, received, sent in rows}


def _layers(session: Session, demo_files) -> dict[str, ZoneLayer]:
    """Every version reports may have been routed by: the demo's files and each stored version, as a worker loads them."""
    layers = [load_zone_layer(LayerFiles.of_demo(demo_files)), *(stored_layer(row, MAX_VERTICES) for row in session.scalars(sa.select(LayerVersion)))]
    return {layer.version: layer for layer in layers}


def run_load(database_url: str, workers: int | None, demo_files, tmp_path: Path, count: int, steps: list[tuple[float, str]]) -> dict[str, Any]:
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": database_url, "ZONEMAP_LAYER_CHECK_SECONDS": "0.5",
           "ZONEMAP_PUBLIC_SUBMIT_LIMIT": "100000 per minute"}
    upload = tmp_path / "upload"
    upload.mkdir()
    layer_bytes = changed_layer(demo_files, upload)
    server = Server(env, tmp_path, workers)
    server.start()
    engine = sa.create_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            tokens = {role: create_token(session, role) for role in ("public", "dispatcher", "planner")}
        load = Load(server, tokens, pd.read_csv(demo_files.reports), count, seed=7)
        events: list[str] = []
        chaos = threading.Thread(target=load.chaos, args=(steps, layer_bytes, events))
        chaos.start()
        with ThreadPoolExecutor(CLIENTS) as clients:
            list(clients.map(load.submit, range(count)))
        chaos.join()
        status, units = call("GET", server.base + "/api/v1/units", token=tokens["dispatcher"])
        assert status == 200
    except BaseException:
        engine.dispose()
        raise
    finally:
        server.stop()
    ledger = load.ledger
    assert not ledger.unexpected, ledger.unexpected[:20]
    assert len(events) == len(steps), events
    config = RoutingConfig(nearest_tolerance_m=30.0, test_point_radius_m=50.0)
    try:
        with Session(engine) as session:
            rows = session.execute(sa.text("SELECT id, idempotency_key, description, lon, lat, accuracy_m, category, unit_id, zone_id, route_status,"
                                           " zone_version, state FROM reports WHERE idempotency_key LIKE :run"), {"run": f"load-{load.run}-%"}).all()
            layers = _layers(session, demo_files)
            by_key = {r.idempotency_key: r for r in rows}
            # Every acknowledged report is there exactly once, as first sent; nothing else is.
            assert len(rows) == len(by_key) == len(ledger.acked) == count
            assert all(by_key[key].id == rid and by_key[key].description == ledger.bodies[key]["description"] for key, rid in ledger.acked.items())
            assert max(ledger.created.values()) == 1
            assert not _history_problems(session)
            # One outbox message per notified step, written with it.
            notified = session.execute(sa.text("SELECT count(*) FROM transitions WHERE action IN :actions").bindparams(
                sa.bindparam("actions", expanding=True)), {"actions": [a.value for a in notifications.NOTIFIED]}).scalar()
            assert session.execute(sa.text("SELECT count(*) FROM outbox")).scalar() == notified
            recount = _recount(session)
    finally:
        engine.dispose()
    served = {item["key"]: (item["received"], item["dispatched"]) for item in units["items"] if item["received"]}
    assert served == {unit: counts for unit, counts in recount.items() if unit}
    # Each report was routed by one whole layer version: re-routing it with that version agrees.
    versions = Counter(r.zone_version for r in rows)
    assert set(versions) <= set(layers) and len(versions) == 2, versions
    for r in rows:
        again = route_one(r.lon, r.lat, r.category, layers[r.zone_version], config, accuracy_m=r.accuracy_m)
        assert (again.status, again.zone_id) == (r.route_status, r.zone_id), r
    return {"reports": count, "acknowledged": len(ledger.acked), "found": len(rows), "statuses": dict(ledger.statuses),
            "resent after a lost answer": ledger.resent, "events": events, "versions": dict(versions)}


def test_gunicorn_4_workers_on_postgresql(demo_files, tmp_path, load_size, postgres_url):
    figures = run_load(postgres_url, 4, demo_files, tmp_path, load_size,
                       [(0.25, "kill-worker"), (0.45, "publish-layer"), (0.65, "kill-server")])
    print(figures)


def test_single_process_on_sqlite(demo_files, tmp_path, load_size):
    figures = run_load(f"sqlite:///{tmp_path / 'zonemap.sqlite'}", None, demo_files, tmp_path, load_size,
                       [(0.35, "publish-layer"), (0.65, "kill-server")])
    print(figures)
