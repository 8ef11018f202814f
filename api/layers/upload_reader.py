"""A planner's upload of a zone layer, read and validated: a GeoPackage with every layer, or the
layers one by one (GeoJSON, GeoPackage, CSV, Excel, zipped Shapefile; UTF-8 or GBK), with the
categories and units tables. Every finding is kept by layer, row, feature and field; a layer the
upload leaves out is taken from the current version. Client file names only give formats."""

from __future__ import annotations

import functools
import io
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geodata.calendar import load_calendar
from geodata.io import decode_text, list_layers
from geodata.load import load_categories, load_layer, load_streets
from zones.enums import LayerKind
from zones.errors import ZonemapError
from zones.layer import ZoneLayer
from zones.schema import ValidationReport, check_identifiers

#: The files an upload may carry: a GeoPackage with every layer, or the layers one by one (each a
#: GeoJSON, GeoPackage, CSV or Excel file, as the command line reads them), and the two tables.
UPLOAD_FIELDS = ("layer", "zones", "test_points", "areas", "scope", "categories", "units", "calendar")  # calendar: holidays and make-up days
LAYER_SUFFIXES = (".gpkg", ".geojson", ".json", ".csv", ".xlsx", ".zip")  # .zip: a zipped shapefile (UTF-8 or GBK)
#: Most a zipped shapefile may unpack to (bytes): a small zip must not fill the disk.
MAX_UNZIPPED = 1 << 30
#: Most bytes a zip may unpack to per byte it holds: shapefiles compress 2 to 20 times, a zip bomb thousands.
MAX_ZIP_RATIO = 100
UNZIP_CHUNK = 1 << 20  # members are unpacked to disk this many bytes at a time
#: The files a shapefile cannot be read without.
NEEDED_BESIDE_SHP = {".shx", ".dbf"}
TABLE_SUFFIXES = (".csv", ".xlsx")
#: The files each field takes, where not a layer's (`LAYER_SUFFIXES`).
SUFFIXES = {"layer": (".gpkg",), "categories": TABLE_SUFFIXES, "units": TABLE_SUFFIXES, "calendar": (".csv",)}


@dataclass
class Upload:
    """What an upload holds: every layer's validation report and, when none has an error, the
    layer it makes with its tables as stored."""

    reports: list[ValidationReport]
    layer: ZoneLayer | None
    categories_csv: str
    units_csv: str | None
    sources: str

    @property
    def ok(self) -> bool:
        """True when no report holds an error."""
        return self.layer is not None




def problems(reports: list[ValidationReport]) -> list[dict[str, Any]]:
    """Every problem of ``reports`` as plain data (layer, source, severity, row, feature, field; its
    code and values, and its English text)."""
    return [{"layer": r.layer, "source": r.source, "severity": p.severity, "row": p.row, "feature_id": p.feature_id, "field": p.field,
             "code": p.code, "params": dict(p.params), "message": p.message}
            for r in reports for p in r.problems]


def _suffix(name: str, allowed: tuple[str, ...], field: str, report: ValidationReport) -> str | None:
    suffix = Path(name).suffix.lower()
    if suffix not in allowed:
        report.error("wrong_suffix", name=name or "the file", allowed=", ".join(allowed), field=field)
        return None
    return suffix


def read_upload(files: Mapping[str, tuple[str, Path]], current: Callable[[], ZoneLayer], *, max_vertices: int) -> Upload:
    """Validate an upload: ``files`` maps fields of `UPLOAD_FIELDS` to (the client's file name, the
    file as stored on this machine, under a name of ours).

    A layer the upload does not carry is kept from ``current()`` (and said so in a warning), so a
    planner may send a new zones file alone; the current layer is loaded only then. Client file
    names only give the format: files are read under fixed names.
    """
    current = functools.cache(current)
    reports: list[ValidationReport] = []
    upload = ValidationReport("upload", ", ".join(name for name, _ in files.values()))
    reports.append(upload)
    with tempfile.TemporaryDirectory(prefix="zonemap-upload-") as tmp:
        paths: dict[str, Path] = {}
        for field, (name, stored) in files.items():
            suffix = _suffix(name, SUFFIXES.get(field, LAYER_SUFFIXES), field, upload)
            if suffix == ".zip":
                shapefile = _unzip_shapefile(stored, Path(tmp) / field, name, field, upload)
                if shapefile is not None:
                    paths[field] = shapefile
            elif suffix is not None:
                paths[field] = Path(tmp) / f"{field}{suffix}"
                paths[field].symlink_to(stored.resolve())
        package = paths.get("layer")
        package_layers = _package_layers(package, files["layer"][0], upload) if package else set()
        frames: dict[str, gpd.GeoDataFrame | None] = {}
        for kind in (LayerKind.ZONES, LayerKind.TEST_POINTS, LayerKind.AREAS, LayerKind.SCOPE):
            field = kind.value.replace("-", "_")
            path = paths.get(field) or (package if field in package_layers else None)
            if path is None:
                frames[field] = getattr(current(), field)
                if kind != LayerKind.SCOPE or current().scope is not None:
                    upload.warning("layer_kept", layer=field, field=field)
                continue
            try:
                loaded = load_layer(path, kind, layer=field if path == package else None, strict=False, max_vertices=max_vertices)
            except ZonemapError as err:
                upload.error(err.code, field=field, **_named(err, path, files[field if field in files else "layer"][0]))
                continue
            loaded.report.source = files[field if field in files else "layer"][0]  # the planner's name for it, not ours
            reports.append(loaded.report)
            frames[field] = loaded.frame
        streets = load_streets(package) if package and "streets" in package_layers else current().streets
        categories = current().categories if "categories" not in paths else None
        if "categories" in paths:
            try:
                categories, report = load_categories(paths["categories"], strict=False)
            except ZonemapError as err:
                upload.error(err.code, field="categories", **_named(err, paths["categories"], files["categories"][0]))
            else:
                report.source = files["categories"][0]
                reports.append(report)
        units = _units(paths["units"], upload) if "units" in paths else current().unit_table
        calendar = current().calendar
        days = paths.get("calendar") or (package if "calendar" in package_layers else None)
        if days is not None:
            calendar, report = load_calendar(days, strict=False)
            report.source = files["calendar" if "calendar" in files else "layer"][0]
            reports.append(report)
    sources = ", ".join(f"{field}: {name}" for field, (name, _) in files.items())
    if any(r.errors for r in reports) or len(frames) < 4 or categories is None:
        return Upload(reports, None, "", None, sources)
    try:
        layer = ZoneLayer.build(frames["zones"], frames["test_points"], frames["areas"], categories, units=units, streets=streets, scope=frames["scope"],
                                calendar=calendar)
    except ZonemapError as err:
        upload.error_of(err)
        return Upload(reports, None, "", None, sources)
    return Upload(reports, layer, categories.to_csv(index=False), units.to_csv(index=False) if units is not None else None, sources)


def _unzip_shapefile(stored: Path, folder: Path, name: str, field: str, report: ValidationReport) -> Path | None:
    """The one shapefile of a zip (with its .dbf, .shx, .prj, .cpg), unpacked into ``folder`` under
    the members' own base names (never their paths); None, with an error, for anything else."""
    packed = stored.stat().st_size
    try:
        archive = zipfile.ZipFile(stored)
    except zipfile.BadZipFile:
        report.error("not_a_zip", name=name, field=field)
        return None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not Path(m.filename).name.startswith(".")]
        shapes = [m for m in members if m.filename.lower().endswith(".shp")]
        if len(shapes) != 1:
            report.error("zip_shapefiles", name=name, n=len(shapes), field=field)
            return None
        stem = Path(shapes[0].filename).stem
        members = [m for m in members if Path(m.filename).stem == stem]
        budget = min(MAX_UNZIPPED, MAX_ZIP_RATIO * max(packed, 1))
        if sum(m.file_size for m in members) > budget:  # what the zip declares; what it really holds is counted below
            _refuse_size(report, name, field, packed)
            return None
        missing = sorted(NEEDED_BESIDE_SHP - {Path(m.filename).suffix.lower() for m in members})
        if missing:
            report.error("zip_missing_parts", name=name, shapefile=Path(shapes[0].filename).name, missing=" ".join(missing), field=field)
            return None
        folder.mkdir()
        for member in members:
            try:
                written = _unpack(archive, member, folder / f"{field}{Path(member.filename).suffix.lower()}", budget)
            except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as err:  # a damaged member, a method zipfile lacks
                report.error("cannot_read", name=name, detail=str(err), field=field)
                return None
            if written is None:
                _refuse_size(report, name, field, packed)
                return None
            budget -= written
    return folder / f"{field}.shp"


def _unpack(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, budget: int) -> int | None:
    """Stream ``member`` to ``target`` a chunk at a time; the bytes written, or None (and nothing
    kept) once it passes ``budget``, whatever its header declared."""
    written = 0
    with archive.open(member) as source, target.open("wb") as out:
        while chunk := source.read(UNZIP_CHUNK):
            written += len(chunk)
            if written > budget:
                break
            out.write(chunk)
    if written > budget:
        target.unlink()
        return None
    return written


def _refuse_size(report: ValidationReport, name: str, field: str, packed: int) -> None:
    if MAX_ZIP_RATIO * packed < MAX_UNZIPPED:
        report.error("zip_ratio", name=name, ratio=MAX_ZIP_RATIO, field=field)
    else:
        report.error("zip_too_large", name=name, mb=MAX_UNZIPPED >> 20, field=field)


def _named(err: ZonemapError, path: Path, name: str) -> dict[str, str]:
    """A reader's finding about ``path`` with the planner's own name for the file in its values."""
    return {key: value.replace(path.name, name) for key, value in err.params.items()}


def _package_layers(path: Path, name: str, report: ValidationReport) -> set[str]:
    try:
        names = set(list_layers(path))
    except ZonemapError as err:
        report.error(err.code, field="layer", **_named(err, path, name))
        return set()
    if not names & {"zones", "test_points", "areas", "scope"}:
        report.error("no_known_layers", field="layer")
    return names


def _units(path: Path, report: ValidationReport) -> pd.DataFrame | None:
    try:
        frame = (pd.read_excel(path, dtype=str) if path.suffix == ".xlsx"
                 else pd.read_csv(io.StringIO(decode_text(path.read_bytes(), "units")), dtype=str, keep_default_na=False))
    except ZonemapError as err:
        report.error_of(err, field="units")
        return None
    except ValueError as err:  # the workbook's own reader
        report.error("cannot_read", name=path.name, detail=err, field="units")
        return None
    if "unit_id" not in frame.columns or "unit_name" not in frame.columns:
        report.error("units_columns", field="units")
        return None
    unit_ids = [str(v).strip() or None for v in frame["unit_id"].fillna("").tolist()]
    check_identifiers(unit_ids, "unit_id", unit_ids, report)
    return frame.fillna("")


def current_upload(current: ZoneLayer) -> Upload:
    """The current version as an upload: the start of a draft made in the browser (gap-fill
    suggestions accepted from the coverage lists)."""
    return Upload([], current, current.categories.to_csv(index=False), current.unit_table.to_csv(index=False) if current.unit_table is not None else None,
                  f"version {current.version}")
