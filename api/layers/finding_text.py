"""Validation findings in the page's language.

Each finding carries its code and the values found (`zones.findings`); a page says it from this
catalogue, one sentence per code, with the same values. A code without a sentence here (a
library's own message) is shown in English, as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from zones.findings import FINDINGS, finding_message

#: Code → what a reader is told, with the finding's values.
PAGE: dict[str, LazyString] = {
    "too_many_vertices": _l("the geometry has %(n)s vertices, more than the limit of %(limit)s: simplify it (to 0.5 m, say) or split it"),
    "empty_geometry": _l("the geometry is empty or missing"),
    "wrong_geometry": _l("the geometry is a %(found)s; expected %(expected)s"),
    "polygon_lost": _l("invalid polygon (%(reason)s): nothing is left of it after repair"),
    "polygon_repaired": _l("invalid polygon (%(reason)s) repaired; its area changed by %(change)s"),
    "duplicate": _l("%(column)s %(value)s appears twice (first at row %(first)s)"),
    "unknown_duties": _l("unknown duties %(unknown)s; use any of %(known)s"),
    "no_duty": _l("the zone holds no duty, so no report will ever be sent to it"),
    "bad_priority": _l("priority %(value)s is not a whole number within ±%(limit)s"),
    "unknown_kind": _l("unknown zone kind %(value)s, kept as given; known kinds: %(known)s"),
    "unknown_point_type": _l("unknown test point type %(value)s, kept as given; known types: %(known)s"),
    "bad_level": _l("level %(value)s is not one of %(known)s"),
    "missing_columns_mapped": _l("required columns %(missing)s are missing; the file has %(found)s. Rename your headers (责任单位 to unit_id, say)"),
    "missing_columns": _l("required columns %(missing)s are missing; the file has %(found)s"),
    "duty_or_department": _l("give either duty or department_unit_id, not both and not neither"),
    "unknown_duty": _l("unknown duty %(value)s; use one of %(known)s"),
    "bad_deadline": _l("%(column)s %(value)s is not a positive number"),
    "bad_std_code": _l("std_code %(value)s is not a national 城市管理事项 code: 2 digits of the class and 3 of the subclass, e.g. 01001"),
    "bad_deadline_unit": _l("deadline_unit %(value)s is not one of %(known)s: hours, work_hours (工作时) or work_days (工作日)"),
    "empty_value": _l("%(column)s is empty"),
    "unknown_category": _l("category %(value)s is not a category of the current zone layer"),
    "bad_point_type": _l("point_type %(value)s is not a test point type: %(known)s"),
    "bad_item_kind": _l("kind %(value)s is not one of %(known)s"),
    "bad_minimum": _l("minimum %(value)s does not fit a %(kind)s item: a count needs a whole number of at least 1, a ratio a share above 0 "
                      "up to 1, other kinds none"),
    "bad_weight": _l("weight %(value)s is not a positive number (0 only for a note)"),
    "bad_owner": _l("owner %(value)s is not one of %(known)s: zone (the owner of the spot) or adopter (the point's adopting unit)"),
    "bad_identifier": _l("%(column)s %(value)s is not a valid code: use letters, digits, _ . - or Chinese characters, at most 64"),
    "coordinates_not_numbers": _l("the coordinates are not numbers: %(text)s"),
    "projected_coordinates": _l("%(n)s rows (rows %(rows)s) have projected coordinates in metres (x=%(x)s, y=%(y)s, say) but the layer is read as %(crs)s: "
                                "save it in WGS84 or CGCS2000 longitude and latitude, or with its CRS declared (EPSG:4547, say)"),
    "swapped_coordinates": _l("latitude and longitude look swapped (x=%(x)s, y=%(y)s): x must be the longitude"),
    "coordinates_out_of_range": _l("coordinates out of range (x %(x)s, y %(y)s): the longitude must be within ±180 and the latitude within ±90"),
    "coordinates_not_finite": _l("the coordinates are not finite numbers"),
    "outside_china": _l("the whole layer lies outside China (%(bbox)s): is its coordinate system right?"),
    "mapping_unknown_column": _l("the column mapping names %(source)s, which the file does not have; its columns are %(columns)s"),
    "layer_kept": _l("%(layer)s: not in the upload; the current version's is kept"),
    "no_known_layers": _l("the GeoPackage holds none of the layers zones, test_points, areas, scope"),
    "units_columns": _l("the units table needs the columns unit_id and unit_name"),
    "not_a_zip": _l("%(name)s: not a zip file"),
    "zip_shapefiles": _l("%(name)s: the zip must hold exactly one shapefile (.shp); it holds %(n)s"),
    "zip_too_large": _l("%(name)s: unpacks to more than %(mb)s MB"),
    "zip_missing_parts": _l("%(name)s: the shapefile %(shapefile)s needs its %(missing)s beside it in the zip"),
    "zip_ratio": _l("%(name)s: unpacks to more than %(ratio)s times its size, which no shapefile does"),
    "processing_failed": _l("the upload could not be processed (%(detail)s): upload it again; if it fails again, the service's log says why"),
    "wrong_suffix": _l("%(name)s: the file must be one of %(allowed)s"),
    "cannot_read_csv": _l("cannot read %(name)s as a CSV table: %(detail)s"),
    "cannot_read_excel": _l("cannot read %(name)s as an Excel workbook: %(detail)s"),
    "cannot_read": _l("cannot read %(name)s: %(detail)s"),
    "no_geometry_column": _l("%(name)s has no geometry column"),
    "cannot_decode": _l("%(name)s is in none of the encodings %(encodings)s (%(detail)s): save it as UTF-8"),
    "dbf_encoding": _l("the attributes of %(name)s are neither UTF-8 nor GBK/GB18030: save the file as UTF-8"),
    "text_encoding": _l("%(name)s is neither UTF-8 nor GBK (line %(line)s, byte %(byte)s): save it as UTF-8"),
    "several_layers": _l("%(name)s holds %(n)s layers (%(names)s) and none is named after what it holds: name it zones, test_points, areas or scope"),
}


def finding_text(finding: Mapping[str, Any]) -> str:
    """A finding (``code`` and ``params``, as `upload_reader.problems` gives it) in the page's language."""
    code, params = finding.get("code"), finding.get("params") or {}
    if code in PAGE:
        return str(PAGE[code]) % params
    if code in FINDINGS:
        return finding_message(code, params)
    return str(finding.get("message", ""))  # a draft stored before findings had codes
