"""Validation problems in the page's language.

The validators (`zones.schema`, `geodata.load`, `api.layers.drafts`) write their findings in English,
with the values found; the pages show them through `problem_text`, which recognises each kind of
finding and says it in the reader's language with the same values. A finding it does not know
is shown as written.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

#: (the finding as the validators write it, what a reader is told); the first that matches wins.
PATTERNS: list[tuple[re.Pattern[str], LazyString]] = [(re.compile(pattern, re.DOTALL), text) for pattern, text in (
    (r"geometry has (?P<n>[\d,]+) vertices, more than the limit of (?P<limit>[\d,]+); simplify it \(e\.g\. to 0\.5 m\) or split it",
     _l("the geometry has %(n)s vertices, more than the limit of %(limit)s: simplify it (to 0.5 m, say) or split it")),
    (r"geometry is empty or missing", _l("the geometry is empty or missing")),
    (r"geometry is a (?P<found>.+), expected (?P<expected>.+)", _l("the geometry is a %(found)s; expected %(expected)s")),
    (r"invalid polygon \((?P<reason>.+)\) has no area left after repair", _l("invalid polygon (%(reason)s): nothing is left of it after repair")),
    (r"invalid polygon \((?P<reason>.+)\) repaired with make_valid; area changed by (?P<change>.+)",
     _l("invalid polygon (%(reason)s) repaired; its area changed by %(change)s")),
    (r"duplicate (?P<column>\w+) (?P<value>.+) \(first at row (?P<row>\d+)\)", _l("%(column)s %(value)s appears twice (first at row %(row)s)")),
    (r"unknown duties (?P<unknown>.+); expected any of (?P<known>.+)", _l("unknown duties %(unknown)s; use any of %(known)s")),
    (r"zone holds no duty, so no report will ever be routed to it", _l("the zone holds no duty, so no report will ever be sent to it")),
    (r"priority (?P<value>.+) is not an integer within ±(?P<limit>[\d,]+)", _l("priority %(value)s is not a whole number within ±%(limit)s")),
    (r"unknown kind (?P<value>.+) kept as given; known kinds: (?P<known>.+)", _l("unknown zone kind %(value)s, kept as given; known kinds: %(known)s")),
    (r"unknown test-point type (?P<value>.+) kept as given; known types: (?P<known>.+)",
     _l("unknown test point type %(value)s, kept as given; known types: %(known)s")),
    (r"level (?P<value>.+) is not one of (?P<known>.+)", _l("level %(value)s is not one of %(known)s")),
    (r"missing required columns (?P<missing>.+); columns found: (?P<found>.+)\. Map your own headers with a column mapping, e\.g\. 责任单位=unit_id",
     _l("required columns %(missing)s are missing; the file has %(found)s. Rename your headers (责任单位 to unit_id, say)")),
    (r"missing required columns (?P<missing>.+); columns found: (?P<found>.+)", _l("required columns %(missing)s are missing; the file has %(found)s")),
    (r"give exactly one of duty or department_unit_id", _l("give either duty or department_unit_id, not both and not neither")),
    (r"unknown duty (?P<value>.+); expected one of (?P<known>.+)", _l("unknown duty %(value)s; use one of %(known)s")),
    (r"deadline_hours (?P<value>.+) is not a positive number", _l("deadline_hours %(value)s is not a positive number")),
    (r"(?P<column>\w+) is empty", _l("%(column)s is empty")),
    (r"coordinates are not numbers: (?P<text>.+)", _l("the coordinates are not numbers: %(text)s")),
    (r"(?P<n>\d+) rows \(rows (?P<rows>.+)\) have projected coordinates in metres \(e\.g\. x=(?P<x>\S+), y=(?P<y>\S+)\) but the layer is read as (?P<crs>.+); "
     r"give the layer's CRS, e\.g\. --crs EPSG:4547 \(CGCS2000 / 3-degree Gauss-Kruger CM 120E\)",
     _l("%(n)s rows (rows %(rows)s) have projected coordinates in metres (x=%(x)s, y=%(y)s, say) but the layer is read as %(crs)s: "
        "save it in WGS84 or CGCS2000 longitude and latitude, or with its CRS declared (EPSG:4547, say)")),
    (r"latitude and longitude look swapped \(x=(?P<x>\S+), y=(?P<y>\S+)\): x must be the longitude",
     _l("latitude and longitude look swapped (x=%(x)s, y=%(y)s): x must be the longitude")),
    (r"coordinates out of range \(x (?P<x>.+), y (?P<y>.+)\): longitude must be within ±180 and latitude within ±90",
     _l("coordinates out of range (x %(x)s, y %(y)s): the longitude must be within ±180 and the latitude within ±90")),
    (r"coordinates are not finite numbers", _l("the coordinates are not finite numbers")),
    (r"the whole layer lies outside China \(bbox (?P<bbox>.+)\); is the CRS right\?", _l("the whole layer lies outside China (%(bbox)s): is its coordinate system right?")),
    (r"column mapping names (?P<source>.+), which the file does not have; columns are (?P<columns>.+)",
     _l("the column mapping names %(source)s, which the file does not have; its columns are %(columns)s")),
    (r"(?P<layer>\w+): not in the upload; the current version's is kept", _l("%(layer)s: not in the upload; the current version's is kept")),
    (r"layer: the GeoPackage holds none of the layers zones, test_points, areas, scope", _l("the GeoPackage holds none of the layers zones, test_points, areas, scope")),
    (r"units: the table needs the columns unit_id and unit_name", _l("the units table needs the columns unit_id and unit_name")),
    (r"(?P<name>.+): not a zip file", _l("%(name)s: not a zip file")),
    (r"(?P<name>.+): the zip must hold exactly one shapefile \(\.shp\), it holds (?P<n>\d+)", _l("%(name)s: the zip must hold exactly one shapefile (.shp); it holds %(n)s")),
    (r"(?P<name>.+): unpacks to more than (?P<mb>\d+) MB", _l("%(name)s: unpacks to more than %(mb)s MB")),
    (r"(?P<name>.+): expected one of (?P<allowed>[.a-z, ]+)", _l("%(name)s: the file must be one of %(allowed)s")),
    (r"cannot read (?P<name>.+?) as CSV: (?P<detail>.+)", _l("cannot read %(name)s as a CSV table: %(detail)s")),
    (r"cannot read (?P<name>.+?) as an Excel workbook: (?P<detail>.+)", _l("cannot read %(name)s as an Excel workbook: %(detail)s")),
    (r"cannot read (?P<name>.+?): (?P<detail>.+)", _l("cannot read %(name)s: %(detail)s")),
    (r"(?P<name>.+) has no geometry column", _l("%(name)s has no geometry column")),
    (r"cannot decode (?P<name>.+?) as (?P<encodings>[-\w]+(?: or [-\w]+)*): (?P<detail>.+)",
     _l("%(name)s is in none of the encodings %(encodings)s (%(detail)s): save it as UTF-8")),
    (r"cannot decode the attributes of (?P<name>.+) as UTF-8 or GBK/GB18030; give the encoding explicitly",
     _l("the attributes of %(name)s are neither UTF-8 nor GBK/GB18030: save the file as UTF-8")),
    (r"(?P<name>.+): cannot decode as UTF-8 or GBK \(byte (?P<byte>\d+), line (?P<line>\d+)\); save it as UTF-8",
     _l("%(name)s is neither UTF-8 nor GBK (line %(line)s, byte %(byte)s): save it as UTF-8")),
    (r"(?P<name>.+) holds (?P<n>\d+) layers \((?P<names>.+)\); name the one to read",
     _l("%(name)s holds %(n)s layers (%(names)s) and none is named after what it holds: name it zones, test_points, areas or scope")),
)]
#: A finding about one field of an upload: ``zones: <a reader's finding>``.
FIELD_PREFIX = re.compile(r"(?P<field>[a-z_]+): (?P<rest>.+)", re.DOTALL)


def problem_text(message: str) -> str:
    """``message``, a validator's finding, in the page's language (a field's name before it kept)."""
    for pattern, text in PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return str(text) % found.groupdict()
    prefixed = FIELD_PREFIX.fullmatch(message)
    if prefixed:
        rest = problem_text(prefixed["rest"])
        if rest != prefixed["rest"]:
            return f"{prefixed['field']}: {rest}"
    return message
