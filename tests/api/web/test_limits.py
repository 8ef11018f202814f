"""Limits: oversized bodies and files are refused with 413, path-like upload names go nowhere,
public submissions are rate limited per address, and under several workers the count is shared
through Redis."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.layers.test_layers import changed_layer, post_layer
from tests.api.reports.test_reports import REPORT, submit
from tests.support.server import call, create_token, serving


def test_oversized_bodies_are_413(app, client, tokens, demo_files, tmp_path):
    huge = {**REPORT, "description": "垃" * (app.config["MAX_CONTENT_LENGTH"] // 2)}
    assert submit(client, tokens["public"], huge).status_code == 413
    form = {"api_key": "x", "description": "x" * app.config["MAX_CONTENT_LENGTH"]}
    assert client.post("/open311/v2/requests.json", data=form).status_code == 413
    app.config["MAX_LAYER_UPLOAD"] = 10_000
    response = post_layer(client, tokens["planner"], layer=(changed_layer(demo_files, tmp_path), "../../../../tmp/evil.gpkg"))
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert not any(p.name == "evil.gpkg" for p in tmp_path.parent.parent.rglob("evil.gpkg"))


def test_public_submissions_are_rate_limited_per_address(app, client, tokens):
    app.config["PUBLIC_SUBMIT_LIMIT"] = "3 per minute"
    statuses = [submit(client, tokens["public"], {**REPORT, "client_ref": f"r{i}"}).status_code for i in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    refused = submit(client, tokens["public"], {**REPORT, "client_ref": "r9"})
    assert int(refused.headers["Retry-After"]) >= 1 and "3 per 1 minute" in refused.get_json()["detail"]
    assert submit(client, tokens["dispatcher"], {**REPORT, "client_ref": "staff"}).status_code == 201  # staff are not limited


@pytest.mark.slow
def test_the_limit_is_shared_by_every_worker_through_redis(demo_files, tmp_path):
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": f"sqlite:///{tmp_path / 'zonemap.sqlite'}",
           "ZONEMAP_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/0", "ZONEMAP_RATE_LIMIT_PREFIX": f"zonemap-test-{uuid.uuid4().hex}",
           "ZONEMAP_PUBLIC_SUBMIT_LIMIT": "10 per minute"}
    token = create_token(env, tmp_path, "public")
    with serving(env, tmp_path, workers=2) as base, ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda i: call("POST", base + "/api/v1/reports", {**REPORT, "client_ref": f"w{i}"}, token)[0], range(30)))
    assert sorted(statuses) == [201] * 10 + [429] * 20
