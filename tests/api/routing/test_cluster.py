"""`zonemap route --engine dask`: the history routed partition by partition on a distributed
LocalCluster (worker processes on 127.0.0.1) equals the in-process router row for row."""

from __future__ import annotations

import dask_geopandas
import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from api.cli import main
from api.routing.batch import LayerFiles, decision_table, load_zone_layer, route_file
from api.routing.cluster import read_decisions
from zones.config import RoutingConfig

pytestmark = pytest.mark.slow


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: frame[c].astype(object).where(frame[c].notna(), None) for c in frame.columns if c != "geometry"})


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_dask_engine_equals_the_in_process_router(demo_files, tmp_path, suffix):
    reports = demo_files.reports
    sample = pd.read_csv(reports, dtype=str, keep_default_na=False, na_values=[""])
    sample.loc[3, "lon"] = "东经120"  # rows the loader rejects travel too
    sample.loc[5, "crs"] = "mars"
    source = single = tmp_path / f"reports{suffix}"
    if suffix == ".csv":
        sample.to_csv(source, index=False)
    else:  # a folder of GeoParquet parts, and the same rows as one file for the in-process router
        points = gpd.GeoDataFrame(sample.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(
            pd.to_numeric(sample["lon"], errors="coerce"), pd.to_numeric(sample["lat"], errors="coerce")), crs="EPSG:4326")
        points.to_parquet(single)
        source = tmp_path / "reports-parts"
        dask_geopandas.from_geopandas(points, npartitions=4).to_parquet(source)
    out = tmp_path / "decisions"
    layers = ["--zones", demo_files.gpkg, "--areas", demo_files.gpkg, "--test-points", demo_files.gpkg, "--categories", demo_files.categories,
              "--units", demo_files.units]
    args = ["route", source, *layers, "--engine", "dask", "--workers", "2", "--blocksize", "250KB", "--out", out]
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"routed {len(sample)} reports" in result.output
    parts = sorted(out.glob("part-*.parquet"))
    assert len(parts) > 1
    got = read_decisions(out)
    files = LayerFiles(demo_files.gpkg, demo_files.gpkg, demo_files.gpkg, demo_files.categories, demo_files.units)
    want = decision_table(route_file(single, load_zone_layer(files), RoutingConfig()))
    pd.testing.assert_frame_equal(_plain(got), _plain(want))
    assert list(got.geometry.to_wkb()) == list(want.geometry.to_wkb())  # NaN coordinates of broken rows included
    assert (got["status"] == "error").sum() >= 1
