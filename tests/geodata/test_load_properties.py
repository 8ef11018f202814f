"""Hypothesis on the loaders: random and broken geometries, mixed encodings, huge and
non-finite coordinates. Every file either loads or raises a `ZonemapError` that says what is
wrong (naming the row and field when the problem is in a row); never another exception."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.load import load_layer
from zones.errors import SchemaError, ZonemapError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

coordinate = st.one_of(
    st.floats(min_value=119.9, max_value=120.7),  # Chengyang
    st.floats(allow_nan=False, allow_infinity=False),  # anything, up to ±1.8e308
    st.sampled_from([0.0, -0.0, 1e308, -1e308, 180.0000001, 90.0000001, 36.3]),
)
position = st.lists(coordinate, min_size=0, max_size=4)  # 0, 1, 3 or 4 numbers are broken positions
ring = st.lists(position, min_size=0, max_size=8)
geometry = st.one_of(
    st.builds(lambda r: {"type": "Polygon", "coordinates": [r]}, ring),
    st.builds(lambda rs: {"type": "MultiPolygon", "coordinates": [[r] for r in rs]}, st.lists(ring, max_size=3)),
    st.builds(lambda p: {"type": "Point", "coordinates": p}, position),
    st.builds(lambda p: {"type": "LineString", "coordinates": [p, p]}, position),
    st.just(None),
    st.just({"type": "Polygon", "coordinates": []}),
    st.just({"type": "Polygon", "coordinates": [[[120.4, 36.3], [120.41, 36.31], [120.41, 36.3], [120.4, 36.31], [120.4, 36.3]]]}),  # bow tie
)
chinese = st.text(alphabet=st.sampled_from("正阳路城阳街道卫生秩序绿化阳光超市华阳餐饮店鑫源药房abc 、,;|\t\"'"), max_size=12)
properties = st.fixed_dictionaries({
    "zone_id": st.one_of(st.none(), chinese, st.integers()),
    "name": st.one_of(st.none(), chinese),
    "unit_id": st.one_of(st.none(), chinese),
    "unit_name": st.one_of(st.none(), chinese),
    "duties": st.one_of(st.none(), chinese, st.lists(chinese, max_size=3), st.integers()),
    "kind": st.one_of(st.none(), st.sampled_from(["frontage", "road", "block", "plaza", "nonsense"])),
    "priority": st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), chinese),
})


def must_load_or_explain(path: Path, kind: str) -> None:
    try:
        loaded = load_layer(path, kind)
    except SchemaError as err:
        assert err.report is not None and err.report.errors, "a schema error lists its problems"
        for problem in err.report.errors:
            assert str(problem), "every problem says what it is"
            assert problem.row is not None or problem.field is not None or "file" in str(problem) or "column" in str(problem), str(problem)
        return
    except ZonemapError as err:
        assert str(err), "a clear message"
        return
    assert len(loaded.frame) == len(loaded.frame.geometry.dropna())
    assert all(math.isfinite(v) for v in loaded.frame.total_bounds) or not len(loaded.frame)


@SETTINGS
@given(features=st.lists(st.tuples(geometry, properties), min_size=0, max_size=6))
def test_random_and_broken_geojson_zones(tmp_path_factory, features):
    path = tmp_path_factory.mktemp("gj") / "zones.geojson"
    body = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in features]}
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    must_load_or_explain(path, "zones")


@SETTINGS
@given(rows=st.lists(st.tuples(chinese, st.one_of(coordinate, st.sampled_from(["", "nan", "inf", "-inf", "1e999", "东经120"])),
                               st.one_of(coordinate, st.sampled_from(["", "nan", "1e-999"])), st.sampled_from(["utf-8", "gbk"])), min_size=1, max_size=8))
def test_csv_with_mixed_encodings_and_huge_coordinates(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("csv") / "points.csv"
    lines = [b"point_id,name,type,lon,lat\n"]
    for i, (name, lon, lat, encoding) in enumerate(rows):
        lines.append(f'P{i},"{name.replace(chr(34), "")}",market,{lon},{lat}\n'.encode(encoding))
    path.write_bytes(b"".join(lines))
    must_load_or_explain(path, "test-points")


@SETTINGS
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("bytes")
    for name in ("zones.geojson", "zones.csv", "zones.gpkg", "zones.xlsx"):
        (folder / name).write_bytes(data)
        must_load_or_explain(folder / name, "zones")


@pytest.mark.parametrize("value", ["1e308", "-1e308", "inf", "nan"])
def test_huge_or_non_finite_coordinates_are_named_by_row(tmp_path, value):
    path = tmp_path / "points.csv"
    path.write_text(f"point_id,name,type,lon,lat\nP1,菜市场,market,120.4,36.3\nP2,学校,school,{value},36.3\n", encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        load_layer(path, "test-points")
    assert any(p.row == 2 for p in err.value.report.errors), [str(p) for p in err.value.report.errors]
