"""Commands on files: validate, info, demo data, batch routing, coverage analysis, maps."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import click
import pandas as pd
from tqdm import tqdm

from api.cli.common import DATA_DIR_ENV, default_data_dir, fail, main
from api.routing.batch import OUTPUT_SUFFIXES, LayerFiles, load_zone_layer, route_file, write_decisions
from geodata.crs import InputCRS
from geodata.demo import ATTRIBUTION as DEMO_ATTRIBUTION
from geodata.demo import DEFAULT_REPORTS, DemoFiles, ensure_demo, write_demo
from geodata.demo.generate import DEFAULT_SEED, load_district
from geodata.demo.synthetic import synthetic_zones as synthetic_zones_layer
from geodata.io import read_raw, write_layer
from geodata.load import LoadedLayer, load_categories, load_layer
from geodata.spreadsheet import write_csv
from zones.config import RoutingConfig
from zones.enums import LayerKind, Status
from zones.errors import CRSError, LayerReadError, SchemaError
from zones.layer import ZoneLayer
from zones.summary import summarise

PROGRESS_MIN_ROWS = 200_000  # a progress bar for batches that take more than a few seconds
CRS_HELP = f"coordinate system of the input: {', '.join(InputCRS.values())} or an EPSG code (e.g. EPSG:4547)"


def _load(path: Path, kind: LayerKind, **options: Any) -> LoadedLayer:
    """Load a layer for a command; an unreadable file or invalid layer ends the command."""
    try:
        return load_layer(path, kind, **options)
    except SchemaError as err:
        assert err.report is not None
        click.echo(err.report.format(limit=50), err=True)
        fail(f"{path} is not a valid {kind.value} layer", 1)
    except (LayerReadError, CRSError, ValueError) as err:
        fail(str(err), 2)
    raise AssertionError  # unreachable: _fail exits


def _layer_files(demo: bool, data_dir: Path | None, zones: Path | None, areas: Path | None, test_points: Path | None, categories: Path | None,
                 units: Path | None, scope: Path | None) -> LayerFiles:
    """The files a command names, the demo's (with ``--demo``) where it names none: the same
    files make the same layer version, whichever command loads them."""
    given = LayerFiles(zones, areas, test_points, categories, units, None, scope)  # type: ignore[arg-type]
    if not demo:
        return given
    base = LayerFiles.of_demo(_demo_files(data_dir))
    return LayerFiles(*(getattr(given, f.name) or getattr(base, f.name) for f in fields(LayerFiles)))


def _load_layers(files: LayerFiles) -> ZoneLayer:
    """The zone layer of ``files``; invalid or unreadable layers end the command."""
    try:
        return load_zone_layer(files)
    except SchemaError as err:
        click.echo(err.report.format(limit=50) if err.report else str(err), err=True)
        fail("the layers are invalid", 1)
    except (LayerReadError, CRSError, ValueError) as err:
        fail(str(err), 2)
    raise AssertionError  # unreachable: fail exits


@main.command()
@click.argument("layer_file", type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(LayerKind.values()), default=LayerKind.ZONES.value, show_default=True, help="which contract to check against")
@click.option("--crs", help=CRS_HELP)
@click.option("--layer", "layer_name", help="GeoPackage layer or workbook sheet")
@click.option("--encoding", help="attribute encoding (Shapefile, CSV); detected when not given, e.g. gbk")
@click.option("--map", "mapping", multiple=True, metavar="HEADER=COLUMN",
              help="map a header of the file to a contract column, e.g. 责任单位=unit_name (repeatable)")
@click.option("--lon", help="longitude column of a CSV/XLSX")
@click.option("--lat", help="latitude column of a CSV/XLSX")
@click.option("--wkt", help="WKT geometry column of a CSV")
@click.option("--limit", type=int, default=200, show_default=True, help="problems to print at most")
def validate(layer_file: Path, kind: str, crs: str | None, layer_name: str | None, encoding: str | None, mapping: tuple[str, ...], lon: str | None,
             lat: str | None, wkt: str | None, limit: int) -> None:
    """Check LAYER_FILE against its column contract; print every problem by row and field.

    Exits 0 when the layer is valid (warnings allowed), 1 on errors, 2 when it cannot be read.
    """
    try:
        loaded = load_layer(layer_file, kind, crs=crs, columns=list(mapping), layer=layer_name, encoding=encoding, lon=lon, lat=lat, wkt=wkt, strict=False)
    except (LayerReadError, CRSError, ValueError) as err:
        fail(str(err), 2)
        return
    click.echo(loaded.report.format(limit=limit))
    click.echo(f"input CRS: {loaded.input_crs}; stored as WGS84" + (f"; attribute encoding: {loaded.encoding}" if loaded.encoding else ""))
    sys.exit(0 if loaded.report.ok else 1)


def _print_summary(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    if "zones" in summary:
        z = summary["zones"]
        click.echo(f"zones: {z['count']} zones of {z['units']} units; {z['area_km2']} km² in all, {z['covered_km2']} km² covered, "
                   f"{z['overlap_km2']} km² overlapping")
        click.echo("  by kind: " + ", ".join(f"{k} {v}" for k, v in z["by_kind"].items()))
        click.echo(f"  bbox (WGS84): {z['bbox']}")
    if "test_points" in summary:
        t = summary["test_points"]
        click.echo(f"test points: {t['count']} ({t['adopted']} adopted, {t['not_adopted']} not adopted)")
        click.echo("  by type: " + ", ".join(f"{k} {v}" for k, v in t["by_type"].items()))
    if "areas" in summary:
        click.echo(f"areas: {len(summary['areas'])}; bbox (WGS84): {summary['bbox']}")
        for a in summary["areas"]:
            click.echo(f"  {a['area_id']} {a['name']} ({a['level']}): {a['area_km2']} km², default unit {a['default_unit_id']}")


def _demo_files(data_dir: Path | None) -> DemoFiles:
    root = (data_dir or default_data_dir()) / "demo"
    click.echo(f"demo data in {root} (generated on first use)", err=True)
    return ensure_demo(root)


@main.command()
@click.option("--demo", is_flag=True, help="summarise the bundled Chengyang demo layers")
@click.option("--zones", "zones_file", type=click.Path(path_type=Path))
@click.option("--test-points", "points_file", type=click.Path(path_type=Path))
@click.option("--areas", "areas_file", type=click.Path(path_type=Path))
@click.option("--crs", help=CRS_HELP)
@click.option("--data-dir", type=click.Path(path_type=Path), help=f"where the demo lives (default ${DATA_DIR_ENV} or ./zonemap-data)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def info(demo: bool, zones_file: Path | None, points_file: Path | None, areas_file: Path | None, crs: str | None, data_dir: Path | None, as_json: bool) -> None:
    """Summarise a layer set: counts, units, area in km², bounding box."""
    if demo:
        files = _demo_files(data_dir)
        zones_file = zones_file or files.gpkg
        points_file = points_file or files.gpkg
        areas_file = areas_file or files.gpkg
    if not (zones_file or points_file or areas_file):
        fail("give --demo or at least one of --zones, --test-points, --areas", 2)
    layers = {
        name: _load(path, kind, crs=crs).frame if path else None
        for name, path, kind in (("zones", zones_file, LayerKind.ZONES), ("test_points", points_file, LayerKind.TEST_POINTS),
                                 ("areas", areas_file, LayerKind.AREAS))
    }
    _print_summary(summarise(**layers), as_json)


@main.command("demo-data")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="folder to write into")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--reports", type=int, default=DEFAULT_REPORTS, show_default=True, help="how many reports to generate")
@click.option("--synthetic-zones", type=int, help="instead, write a generated layer of about N zones over the district to OUT/zones_N.gpkg")
def demo_data(out_dir: Path, seed: int, reports: int, synthetic_zones: int | None) -> None:
    """Write the Chengyang demo layers (deterministic for a seed) to OUT."""
    started = time.perf_counter()
    if synthetic_zones:
        path = out_dir / f"zones_{synthetic_zones}.gpkg"
        path.unlink(missing_ok=True)
        zones = synthetic_zones_layer(synthetic_zones, load_district().geometry.union_all(), seed=seed)
        write_layer(zones, path, layer="zones")
        click.echo(f"wrote {path}: {len(zones)} zones ({time.perf_counter() - started:.1f} s)")
        return
    files = write_demo(out_dir, seed=seed, reports=reports)
    manifest = json.loads((files.root / "manifest.json").read_text(encoding="utf-8"))
    counts = ", ".join(f"{k} {v}" for k, v in manifest["counts"].items())
    click.echo(f"wrote {files.root}: {counts}, reports {reports} ({time.perf_counter() - started:.1f} s)")


@main.command()
@click.option("--data-dir", type=click.Path(path_type=Path), help=f"where the demo lives (default ${DATA_DIR_ENV} or ./zonemap-data)")
def demo(data_dir: Path | None) -> None:
    """Generate (first time), validate and summarise the Chengyang demo."""
    files = _demo_files(data_dir)
    layers: dict[str, Any] = {}
    for name, kind in (("zones", LayerKind.ZONES), ("test_points", LayerKind.TEST_POINTS), ("areas", LayerKind.AREAS)):
        loaded = _load(files.gpkg, kind)
        click.echo(loaded.report.summary())
        layers[name] = loaded.frame
    reports = _load(files.reports, LayerKind.REPORTS)
    click.echo(reports.report.summary())
    try:
        _, report = load_categories(files.categories)
    except SchemaError as err:
        fail(str(err), 1)
        return
    click.echo(report.summary())
    _print_summary(summarise(**layers), as_json=False)


@main.command("route")
@click.argument("reports", type=click.Path(path_type=Path))
@click.option("--zones", "zones_file", type=click.Path(path_type=Path), help="zones layer")
@click.option("--areas", "areas_file", type=click.Path(path_type=Path), help="district and sub-districts")
@click.option("--test-points", "points_file", type=click.Path(path_type=Path), help="test points layer")
@click.option("--categories", "categories_file", type=click.Path(path_type=Path), help="categories CSV")
@click.option("--units", "units_file", type=click.Path(path_type=Path), help="optional units CSV (unit_id, unit_name) naming departments in reasons")
@click.option("--scope", "scope_file", type=click.Path(path_type=Path), help="optional coverage scope: part of the layer's version, not of routing")
@click.option("--demo", is_flag=True, help="route against the bundled Chengyang layers")
@click.option("--data-dir", type=click.Path(path_type=Path), help=f"where the demo lives (default ${DATA_DIR_ENV} or ./zonemap-data)")
@click.option("--out", "out_file", type=click.Path(path_type=Path), required=True,
              help="decisions: .csv, .geojson or .gpkg; with --engine dask a folder of GeoParquet parts")
@click.option("--crs", type=click.Choice(InputCRS.values()), help="coordinate system of REPORTS (default: a crs column per row, else wgs84)")
@click.option("--tolerance-m", type=float, default=30.0, show_default=True, help="nearest-zone tolerance for uncovered points")
@click.option("--test-point-radius-m", type=float, default=50.0, show_default=True, help="attach the nearest test point within this radius")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="dask: partition by partition on a Dask cluster, for inputs larger than memory (CSV or GeoParquet)")
@click.option("--scheduler", help="with --engine dask: the scheduler address (tcp://HOST:8786); default a local cluster")
@click.option("--workers", type=int, help="with --engine dask and no --scheduler: worker processes (default: one per core)")
@click.option("--blocksize", default="64MB", show_default=True, help="with --engine dask: CSV partition size")
def route_command(reports: Path, zones_file: Path | None, areas_file: Path | None, points_file: Path | None, categories_file: Path | None,
                  units_file: Path | None, scope_file: Path | None, demo: bool, data_dir: Path | None, out_file: Path, crs: str | None, tolerance_m: float,
                  test_point_radius_m: float, engine: str, scheduler: str | None, workers: int | None, blocksize: str) -> None:
    """Route every report in REPORTS (CSV/GeoJSON/XLSX with id, lon, lat, category, accuracy_m)
    to its accountable unit and write one decision per input row to OUT."""
    files = _layer_files(demo, data_dir, zones_file, areas_file, points_file, categories_file, units_file, scope_file)
    missing = [name for name, value in (("--zones", files.zones), ("--areas", files.areas), ("--test-points", files.test_points),
                                        ("--categories", files.categories)) if value is None]
    if missing:
        fail(f"give --demo or {', '.join(missing)}", 2)
    if engine == "local" and out_file.suffix.lower() not in OUTPUT_SUFFIXES:
        fail(f"--out must end in {', '.join(OUTPUT_SUFFIXES)}", 2)
    if engine == "dask" and out_file.suffix:
        fail("with --engine dask, --out names a folder (it receives part-NNNNN.parquet files)", 2)
    config = RoutingConfig(nearest_tolerance_m=tolerance_m, test_point_radius_m=test_point_radius_m)
    layer = _load_layers(files)
    started = time.perf_counter()
    if engine == "dask":
        from api.routing.cluster import route_on_cluster

        resolved = LayerFiles(*(Path(f).resolve() if f else None  # type: ignore[arg-type]
                                for f in (files.zones, files.areas, files.test_points, files.categories, files.units, None, files.scope)))
        counts = route_on_cluster(reports, resolved, config, out_file, scheduler=scheduler, workers=workers, crs=crs, blocksize=blocksize)
        click.echo(f"routed {sum(counts.values())} reports in {time.perf_counter() - started:.1f} s against zone layer {layer.version} "
                   f"-> {out_file}/part-*.parquet")
        for status in Status.values():
            if counts.get(status, 0):
                click.echo(f"  {status:<11}{counts[status]:>10}")
        return
    try:
        total = len(read_raw(reports).frame) if reports.suffix.lower() in {".csv", ".txt"} else None
        with tqdm(total=total, unit="reports", disable=total is not None and total < PROGRESS_MIN_ROWS, file=sys.stderr) as bar:
            decisions = route_file(reports, layer, config, crs=crs, progress=bar.update)
    except (LayerReadError, CRSError) as err:
        fail(str(err), 2)
        return
    write_decisions(decisions, out_file)
    elapsed = time.perf_counter() - started
    counts = decisions["status"].value_counts()
    click.echo(f"routed {len(decisions)} reports in {elapsed:.1f} s against zone layer {layer.version} -> {out_file}")
    for status in Status.values():
        if counts.get(status, 0):
            click.echo(f"  {status:<11}{counts[status]:>10}")

@main.command()
@click.option("--demo", is_flag=True, help="analyse the bundled Chengyang layers")
@click.option("--zones", "zones_file", type=click.Path(path_type=Path))
@click.option("--areas", "areas_file", type=click.Path(path_type=Path))
@click.option("--test-points", "points_file", type=click.Path(path_type=Path))
@click.option("--scope", "scope_file", type=click.Path(path_type=Path), help="where zones are required (e.g. the built-up area); default the whole district")
@click.option("--categories", "categories_file", type=click.Path(path_type=Path), help="the categories table: part of the layer's version, not of coverage")
@click.option("--units", "units_file", type=click.Path(path_type=Path), help="the units table, for their names")
@click.option("--data-dir", type=click.Path(path_type=Path))
@click.option("--min-gap-m2", type=float, default=1.0, show_default=True, help="gap pieces smaller than this are slivers: dropped and counted")
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="write gaps, overlaps, test points, suggestions (GeoPackage) and tables here")
def coverage(demo: bool, zones_file: Path | None, areas_file: Path | None, points_file: Path | None, scope_file: Path | None, categories_file: Path | None,
             units_file: Path | None, data_dir: Path | None, min_gap_m2: float, as_json: bool, out_dir: Path | None) -> None:
    """Where nobody is responsible (gaps) within the scope, where owners overlap, which test
    points nobody adopted or no zone covers; per sub-district coverage and per-unit holdings."""
    from zones.coverage import analyse

    files = _layer_files(demo, data_dir, zones_file, areas_file, points_file, categories_file, units_file, scope_file)
    if not (files.zones and files.areas and files.test_points):
        fail("give --demo or --zones, --areas and --test-points", 2)
        return
    layer = _load_layers(files)
    started = time.perf_counter()
    result = analyse(layer, min_gap_m2=min_gap_m2)
    elapsed = time.perf_counter() - started
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / "coverage.gpkg"
        target.unlink(missing_ok=True)
        for name in ("gaps", "overlaps", "suggestions"):
            write_layer(getattr(result, name), target, layer=name)
        write_layer(result.test_points, target, layer="test_points")
        write_csv(result.units, out_dir / "units.csv")
        write_csv(result.areas, out_dir / "areas.csv")
        (out_dir / "summary.json").write_text(json.dumps(result.summary, ensure_ascii=False, indent=2), encoding="utf-8")
    s = result.summary
    if as_json:
        click.echo(json.dumps(s, ensure_ascii=False, indent=2))
        return
    click.echo(f"analysed in {elapsed:.1f} s (zone layer {s['zone_version']})")
    where = f"scope {s['scope_area_m2'] / 1e6:.2f} km² of the district's {s['district_area_m2'] / 1e6:.2f} km²" if s["scope"] == "scope" else \
        f"no scope: the whole district, {s['district_area_m2'] / 1e6:.2f} km²"
    click.echo(f"{where}; covered {s['covered_area_m2'] / 1e6:.2f} km², gaps {s['gap_area_m2'] / 1e6:.2f} km² in {s['gap_count']} pieces "
               f"({s['slivers_dropped']} slivers < {min_gap_m2:g} m² dropped)")
    click.echo(f"overlaps: {s['overlap_count']} pairs of different owners, {s['overlap_area_m2']:.0f} m²")
    click.echo(f"test points: {s['test_points_unadopted']} not adopted, {s['test_points_uncovered']} in no zone")
    for area in s["areas"]:
        click.echo(f"  {area['name']}: coverage {area['coverage_ratio']:.1%}")
    if out_dir:
        click.echo(f"wrote {out_dir / 'coverage.gpkg'} (gaps, overlaps, suggestions, test_points), units.csv, areas.csv, summary.json")


@main.group("map")
def map_group() -> None:
    """Write maps as standalone HTML files (their assets copied beside them)."""


@map_group.command("coverage")
@click.option("--out", "out_file", type=click.Path(path_type=Path), required=True, help="the HTML file to write")
@click.option("--data-dir", type=click.Path(path_type=Path))
@click.option("--basemap", type=click.Choice(["osm", "amap", "tianditu"]), help="tiles (default none: works offline)")
def map_coverage(out_file: Path, data_dir: Path | None, basemap: str | None) -> None:
    """The coverage map of the bundled demo layers."""
    from maps.coverage import coverage_map
    from zones.coverage import analyse

    files = _demo_files(data_dir)
    layer = load_zone_layer(LayerFiles.of_demo(files))
    _save(coverage_map(layer, analyse(layer), asset_prefix="assets/", basemap=basemap, private=True, attribution=DEMO_ATTRIBUTION), out_file)


def _routed_demo(data_dir: Path | None) -> tuple[Any, pd.DataFrame]:
    """The demo layer and its generated reports, routed, as map input (state = routing status)."""
    files = _demo_files(data_dir)
    layer = load_zone_layer(LayerFiles.of_demo(files))
    decisions = route_file(files.reports, layer, RoutingConfig())
    names = {code: c.name_zh for code, c in layer.category_table.items()}
    reports = pd.read_csv(files.reports, dtype={"id": str})
    frame = pd.DataFrame({
        "lon": decisions.geometry.x.to_numpy(), "lat": decisions.geometry.y.to_numpy(), "state": decisions["status"].astype(str).to_numpy(),
        "category_name": [names.get(c, c) for c in reports["category"]], "unit_id": decisions["unit_id"].to_numpy(),
        "unit_name": [layer.unit_names.get(u, "") if isinstance(u, str) else "" for u in decisions["unit_id"]], "deadline_at": "",
    }).dropna(subset=["lon", "lat"])
    return layer, frame


def _save(m: Any, out_file: Path) -> None:
    import shutil

    from maps.offline import ASSET_DIRS

    out_file.parent.mkdir(parents=True, exist_ok=True)
    for name, folder in ASSET_DIRS.items():
        if name != "folium":
            shutil.copytree(folder, out_file.parent / "assets" / name, dirs_exist_ok=True)
    heat = ASSET_DIRS["folium"] / "leaflet_heat.min.js"
    (out_file.parent / "assets" / "folium").mkdir(parents=True, exist_ok=True)
    shutil.copy2(heat, out_file.parent / "assets" / "folium" / heat.name)
    m.save(str(out_file))
    click.echo(f"wrote {out_file} ({out_file.stat().st_size / 1e6:.1f} MB) with its assets in {out_file.parent / 'assets'}")


@map_group.command("reports")
@click.option("--out", "out_file", type=click.Path(path_type=Path), required=True)
@click.option("--data-dir", type=click.Path(path_type=Path))
def map_reports(out_file: Path, data_dir: Path | None) -> None:
    """The demo reports, routed: heat map and clusters coloured by routing status."""
    from maps.reports import reports_map

    layer, frame = _routed_demo(data_dir)
    _save(reports_map(layer, frame, asset_prefix="assets/", attribution=DEMO_ATTRIBUTION), out_file)


@map_group.command("unit")
@click.option("--unit", "unit_id", required=True, help="the unit, e.g. P06")
@click.option("--out", "out_file", type=click.Path(path_type=Path), required=True)
@click.option("--data-dir", type=click.Path(path_type=Path))
def map_unit(unit_id: str, out_file: Path, data_dir: Path | None) -> None:
    """One unit's zones, adopted test points and the demo reports routed to it."""
    from maps.reports import unit_map

    layer, frame = _routed_demo(data_dir)
    if unit_id not in set(layer.zones["unit_id"]) and unit_id not in layer.unit_names:
        fail(f"unknown unit {unit_id!r}", 2)
    _save(unit_map(layer, unit_id, frame[frame["unit_id"] == unit_id], asset_prefix="assets/", attribution=DEMO_ATTRIBUTION), out_file)
