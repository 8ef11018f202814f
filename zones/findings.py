"""What a validator or a reader can find wrong with a layer, each finding by code.

A finding carries its code and its parameters (the values found, as shown); its English text is
made here from the code, and a page says it in the reader's language from the same code and
parameters through its own catalogue (`api.layers.finding_text`). No text is ever parsed back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Code → the English text of the finding, with the parameters it names.
FINDINGS: dict[str, str] = {
    # geometry
    "too_many_vertices": "geometry has {n} vertices, more than the limit of {limit}; simplify it (e.g. to 0.5 m) or split it",
    "empty_geometry": "geometry is empty or missing",
    "wrong_geometry": "geometry is a {found}, expected {expected}",
    "polygon_lost": "invalid polygon ({reason}) has no area left after repair",
    "polygon_repaired": "invalid polygon ({reason}) repaired with make_valid; area changed by {change}",
    # coordinates
    "coordinates_not_numbers": "coordinates are not numbers: {text}",
    "projected_coordinates": "{n} rows (rows {rows}) have projected coordinates in metres (e.g. x={x}, y={y}) but the layer is read as {crs}; "
                             "give the layer's CRS, e.g. --crs EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 120E)",
    "swapped_coordinates": "latitude and longitude look swapped (x={x}, y={y}): x must be the longitude",
    "coordinates_out_of_range": "coordinates out of range (x {x}, y {y}): longitude must be within ±180 and latitude within ±90",
    "coordinates_not_finite": "coordinates are not finite numbers",
    "outside_china": "the whole layer lies outside China (bbox {bbox}); is the CRS right?",
    # a reported place (`zones.intake`)
    "point_not_finite": "lon={lon}, lat={lat} are not finite numbers",
    "point_swapped": "lon={lon}, lat={lat} look swapped: lon is the longitude ({lon_range} in China)",
    "point_outside_china": "lon={lon}, lat={lat} lies outside China (longitude {lon_range}, latitude {lat_range})",
    "unknown_category": "unknown category {value}",
    # columns and values
    "missing_columns": "missing required columns {missing}; columns found: {found}",
    "missing_columns_mapped": "missing required columns {missing}; columns found: {found}. Map your own headers with a column mapping, e.g. 责任单位=unit_id",
    "mapping_unknown_column": "column mapping names {source}, which the file does not have; columns are {columns}",
    "empty_value": "{column} is empty",
    "bad_identifier": "{column} {value} is not an identifier: use {allowed}",
    "duplicate": "duplicate {column} {value} (first at row {first})",
    "unknown_duties": "unknown duties {unknown}; expected any of {known}",
    "no_duty": "zone holds no duty, so no report will ever be routed to it",
    "bad_priority": "priority {value} is not an integer within ±{limit}",
    "unknown_kind": "unknown kind {value} kept as given; known kinds: {known}",
    "unknown_point_type": "unknown test-point type {value} kept as given; known types: {known}",
    "bad_level": "level {value} is not one of {known}",
    "bad_accuracy": "accuracy_m {value} is not a number of metres from 0 to {most}",
    "duty_or_department": "give exactly one of duty or department_unit_id",
    "unknown_duty": "unknown duty {value}; expected one of {known}",
    "bad_deadline": "{column} {value} is not a positive number",
    "bad_deadline_unit": "deadline_unit {value} is not one of {known}",
    # checklists (`zones.checklists`)
    "bad_point_type": "point_type {value} is not one of {known}",
    "bad_item_kind": "kind {value} is not one of {known}",
    "bad_minimum": "minimum {value} does not fit a {kind} item: a count needs a whole number of at least 1, a ratio one above 0 up to 1, others none",
    "bad_weight": "weight {value} is not a positive number (0 only for a note)",
    "bad_owner": "owner {value} is not one of {known}",
    "bad_std_code": "std_code {value} is not a code of the national 城市管理事项 classes: 2 digits of the class and 3 of the subclass, e.g. 01001",
    # files
    "file_not_found": "file not found: {name}",
    "unknown_file_type": "unknown file type {suffix} for {name}; expected one of {known}",
    "cannot_read": "cannot read {name}: {detail}",
    "cannot_read_csv": "cannot read {name} as CSV: {detail}",
    "cannot_read_excel": "cannot read {name} as an Excel workbook: {detail}",
    "cannot_read_parquet": "cannot read {name} as GeoParquet: {detail}",
    "cannot_decode": "cannot decode {name} as {encodings}: {detail}",
    "text_encoding": "{name}: cannot decode as UTF-8 or GBK (byte {byte}, line {line}); save it as UTF-8",
    "dbf_encoding": "cannot decode the attributes of {name} as UTF-8 or GBK/GB18030; give the encoding explicitly",
    "attribute_encoding": "cannot decode the attributes of {name} as {encoding}: {detail}",
    "several_layers": "{name} holds {n} layers ({names}); name the one to read",
    "no_geometry_column": "{name} has no geometry column",
    "no_coordinates": "{name} has no coordinates: expected lon/lat columns (one of {lon_names} and one of {lat_names}) "
                      "or a WKT column ({wkt_names}); columns are {columns}",
    "column_not_found": "column {column} not found; columns are {columns}",
    # uploads
    "wrong_suffix": "{name}: expected one of {allowed}",
    "not_a_zip": "{name}: not a zip file",
    "zip_shapefiles": "{name}: the zip must hold exactly one shapefile (.shp), it holds {n}",
    "zip_too_large": "{name}: unpacks to more than {mb} MB",
    "zip_missing_parts": "{name}: the shapefile {shapefile} needs its {missing} beside it in the zip",
    "zip_ratio": "{name}: unpacks to more than {ratio} times its size, which no shapefile does",
    "processing_failed": "the upload could not be processed ({detail}): upload it again; if it fails again, the service's log says why",
    "layer_kept": "{layer}: not in the upload; the current version's is kept",
    "no_known_layers": "the GeoPackage holds none of the layers zones, test_points, areas, scope",
    "units_columns": "the units table needs the columns unit_id and unit_name",
    # anything a reader reports in its own words (a library's message), shown as written
    "as_written": "{text}",
}


def shown(params: Mapping[str, Any]) -> dict[str, str]:
    """A finding's values as text (JSON, a page and a table column take them as they are)."""
    return {name: str(value) for name, value in params.items()}


def finding_message(code: str, params: Mapping[str, str]) -> str:
    """The English text of a finding."""
    return FINDINGS[code].format(**params)
