"""Invariants of the Chengyang demo data."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geodata.crs import METRIC_CRS
from geodata.demo.generate import GAP_TARGET, generate
from geodata.load import load_categories, load_layer
from zones.enums import TestPointType


@pytest.fixture(scope="module")
def layers(demo_files):
    return {kind: load_layer(demo_files.gpkg, kind).frame for kind in ("zones", "test-points", "areas")}


def test_every_layer_is_valid(demo_files):
    for kind in ("zones", "test-points", "areas"):
        assert load_layer(demo_files.gpkg, kind).report.problems == []
    assert load_layer(demo_files.reports, "reports").report.problems == []
    assert load_categories(demo_files.categories)[1].problems == []


def test_sizes(layers, demo_files):
    assert 5000 <= len(layers["zones"]) <= 10000
    units = pd.read_csv(demo_files.units)
    assert 180 <= len(units) <= 240
    assert set(layers["zones"]["unit_id"]) <= set(units["unit_id"])
    assert len(layers["test-points"]) >= 300
    assert set(layers["zones"]["kind"]) >= {"frontage", "road", "block", "residential", "plaza", "park", "market", "campus"}


def test_every_zone_inside_the_district(layers):
    district = layers["areas"].query("level == 'district'").to_crs(METRIC_CRS).geometry.union_all()
    zones = layers["zones"].to_crs(METRIC_CRS)
    assert shapely.within(zones.geometry.to_numpy(), district.buffer(0.01)).all()


def test_real_subdistricts_with_default_units(layers):
    subs = layers["areas"].query("level == 'subdistrict'")
    assert sorted(subs["name"]) == sorted(["城阳街道", "流亭街道", "夏庄街道", "惜福镇街道", "棘洪滩街道", "上马街道", "河套街道", "红岛街道"])
    assert subs["default_unit_id"].is_unique


def test_gaps_and_overlaps_present(layers, demo_files):
    zones = layers["zones"].to_crs(METRIC_CRS)
    builtup = pyogrio.read_dataframe(demo_files.gpkg, layer="scope").to_crs(METRIC_CRS).geometry.union_all()
    union = shapely.union_all(zones.geometry.to_numpy())
    gap_share = builtup.difference(union).area / builtup.area
    assert 0.05 <= gap_share <= 0.10
    assert gap_share >= GAP_TARGET - 0.02
    overlap = zones.area.sum() - union.area
    assert overlap > 10_000  # m²: frontage stepping into the street, plazas, market halls
    tree = shapely.STRtree(zones.geometry.to_numpy())
    left, right = tree.query(zones.geometry.to_numpy(), predicate="overlaps")
    owners = zones["unit_id"].to_numpy()
    assert (owners[left] != owners[right]).sum() > 100


def test_all_test_point_types_and_some_not_adopted(layers):
    points = layers["test-points"]
    expected = set(TestPointType.values()) - {"other"}
    assert set(points["type"]) == expected
    assert (points["type"] == "station").sum() == 36
    unadopted = points["unit_id"].isna().sum()
    assert 0.05 * len(points) < unadopted < 0.3 * len(points)
    zones = layers["zones"]
    covered = shapely.STRtree(zones.geometry.to_numpy()).query(points.geometry.to_numpy(), predicate="intersects")[0]
    assert len(set(range(len(points))) - set(covered)) > 0  # some test points lie in no zone


def test_reports_mix(demo_files, layers):
    reports = pd.read_csv(demo_files.reports)
    assert set(reports["crs"]) == {"wgs84", "gcj02", "bd09"}
    assert (reports["crs"] == "gcj02").mean() > 0.1
    loaded = load_layer(demo_files.reports, "reports").frame
    district = layers["areas"].query("level == 'district'").geometry.union_all()
    outside = ~shapely.intersects_xy(district, loaded.geometry.x.to_numpy(), loaded.geometry.y.to_numpy())
    assert 0.005 < outside.mean() < 0.06
    assert set(reports["source"]) == {"citizen", "leader", "inspection", "self_check", "spot_check"}
    assert reports["id"].is_unique


def test_deterministic_for_a_seed():
    def digest(seed):
        zones = generate(seed).zones
        wkt = shapely.to_wkt(zones.geometry.to_numpy(), rounding_precision=6)
        h = hashlib.sha256()
        for text in np.concatenate([wkt, zones["unit_id"].to_numpy(dtype=str), zones["person"].to_numpy(dtype=str)]):
            h.update(text.encode())
        return h.hexdigest()

    first = digest(7)
    assert digest(7) == first
    assert digest(8) != first


def test_synthetic_layer_size_and_containment():
    from geodata.demo.generate import load_district
    from geodata.demo.synthetic import synthetic_zones
    from zones.schema import validate_layer

    district = load_district().geometry.union_all()
    zones = synthetic_zones(10_000, district, seed=1)
    assert 9_500 <= len(zones) <= 10_500
    _, report = validate_layer(zones, "zones")
    assert report.ok
    metric = zones.to_crs(METRIC_CRS).geometry.to_numpy()
    district_m = load_district().to_crs(METRIC_CRS).geometry.union_all().buffer(0.01)
    assert shapely.within(metric, district_m).all()
