"""The Chengyang District demo: real boundaries, stations and sub-districts; generated streets,
units, zones and test points. Deterministic for a given seed.

Real (see ``sources/PROVENANCE.md``): the district outline (Amap, GCJ-02, converted here to
WGS84), its 8 sub-districts (街道) and the 36 rail, metro and tram stations (OpenStreetMap).
Generated, since no real data exists: in each sub-district a built-up town with a street grid;
the blocks, road segments and street-front strips of that grid become responsibility zones of
about 200 units; some zones are left out (coverage gaps, 5–10 % of the built-up area) and some
reach over their neighbours (overlaps, "rather step forward than leave a gap").

All geometry is built in UTM 51N metres and stored in WGS84.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Polygon

from geodata.crs import METRIC_CRS, STORAGE_CRS, to_storage
from geodata.demo import names
from zones.enums import TestPointType

SOURCES = Path(__file__).parent / "sources"
CATEGORIES_FILE = Path(__file__).parent / "categories.csv"
DEFAULT_SEED = 2021
DISTRICT_ID = "370214"
DISTRICT_UNIT = ("D-ZH", "城阳区城市管理指挥中心", "department")
DEPARTMENTS = (
    ("D-CG", "城阳区城市管理局"),
    ("D-ZF", "城阳区综合行政执法局"),
    ("D-SJ", "城阳区市场监督管理局"),
    ("D-JT", "城阳区交通运输局"),
    ("D-YL", "城阳区园林和林业服务中心"),
    ("D-JY", "城阳区教育和体育局"),
    ("D-WJ", "城阳区卫生健康局"),
    ("D-WM", "城阳区文明办"),
    ("D-ZJ", "城阳区住房和城乡建设局"),
)
# Town centres (WGS84 lon, lat) and built-up radius (m) per sub-district, by NBS code.
TOWNS = {
    "370214001000": (120.400, 36.309, 2100.0),  # 城阳街道
    "370214002000": (120.383, 36.268, 1400.0),  # 流亭街道
    "370214003000": (120.435, 36.272, 1100.0),  # 夏庄街道
    "370214004000": (120.500, 36.312, 900.0),  # 惜福镇街道
    "370214005000": (120.300, 36.335, 1100.0),  # 棘洪滩街道
    "370214006000": (120.245, 36.272, 1000.0),  # 上马街道
    "370214007000": (120.190, 36.247, 1000.0),  # 河套街道
    "370214008000": (120.262, 36.206, 900.0),  # 红岛街道
}
# The zone kind that stands for each block use (its test point sits there).
MAIN_KIND = {"residential": "residential", "block": "block", "campus": "campus", "market": "market", "park": "park", "plaza": "plaza"}
GAP_TARGET = 0.075  # share of the built-up area left to nobody
FRONTAGE_DEPTH_M = (8.0, 14.0)
STEP_FORWARD_M = 3.0  # frontage strips that reach into the street (overlaps)


@dataclass
class DemoLayers:
    """Every layer of the demo, in WGS84 (units and categories are plain tables)."""

    district: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    builtup: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    test_points: gpd.GeoDataFrame
    units: pd.DataFrame
    categories: pd.DataFrame


def load_district() -> gpd.GeoDataFrame:
    """The real district outline (Amap, GCJ-02) converted to WGS84."""
    raw = gpd.read_file(SOURCES / "370214.geojson")
    return to_storage(raw, "gcj02")


def load_subdistricts() -> gpd.GeoDataFrame:
    """The 8 real sub-districts, WGS84."""
    return gpd.read_file(SOURCES / "370214_subdistricts_wgs84.geojson")


def load_stations() -> gpd.GeoDataFrame:
    """The 36 real rail, metro and tram stations (OpenStreetMap), WGS84."""
    return gpd.read_file(SOURCES / "370214_osm_rail_stations_wgs84.geojson")


class _Rows:
    """Collects zone rows and their metric geometries."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []
        self.geoms: list[Polygon] = []

    def add(self, geom: Polygon, **row: object) -> None:
        self.rows.append(row)
        self.geoms.append(geom)


def _make_units(rng: np.random.Generator, subdistricts: gpd.GeoDataFrame) -> pd.DataFrame:
    rows: list[dict[str, str]] = []

    def add(unit_id: str, name: str, kind: str, subdistrict: str = "") -> None:
        rows.append({
            "unit_id": unit_id, "unit_name": name, "unit_type": kind, "subdistrict": subdistrict,
            "contact_person": names.person_name(rng), "phone": names.phone_number(rng),
        })

    add(*DISTRICT_UNIT)
    for unit_id, name in DEPARTMENTS:
        add(unit_id, name, "department")
    stems = list(dict.fromkeys(names.COMMUNITY_STEMS))
    rng.shuffle(stems)
    words = list(names.COMPANY_WORDS)
    for k, sub in enumerate(subdistricts.itertuples(), start=1):
        add(f"JD{k:02d}", f"{sub.name}办事处", "subdistrict_office", sub.name)
        add(f"HW{k:02d}", f"{sub.name.removesuffix('街道')}环卫服务有限公司", "sanitation_company", sub.name)
    subs = list(subdistricts["name"])
    for k, stem in enumerate(stems, start=1):
        add(f"C{k:03d}", f"{stem}社区居委会", "community", subs[k % len(subs)])
    for k in range(1, 13):
        add(f"P{k:02d}", f"青岛{words[k % len(words)]}物业服务有限公司", "property_company", subs[k % len(subs)])
    for k, school in enumerate(names.SCHOOL_NAMES, start=1):
        add(f"S{k:02d}", school, "school", subs[k % len(subs)])
    for k in range(1, 11):
        add(f"M{k:02d}", f"{stems[k]}农贸市场管理有限公司", "market_operator", subs[k % len(subs)])
    for k in range(1, 81):
        shop = f"{words[int(rng.integers(len(words)))]}{names.SHOP_KINDS[int(rng.integers(len(names.SHOP_KINDS)))]}"
        add(f"B{k:03d}", f"{shop}（{k}号）" if any(r["unit_name"] == shop for r in rows) else shop, "shop", subs[k % len(subs)])
    return pd.DataFrame(rows)


def _rotate(geoms: list[Polygon] | np.ndarray, cx: float, cy: float, angle: float) -> np.ndarray:
    cos_a, sin_a = math.cos(angle), math.sin(angle)

    def matrix(coords: np.ndarray) -> np.ndarray:
        u, v = coords[:, 0], coords[:, 1]
        return np.column_stack([cx + u * cos_a - v * sin_a, cy + u * sin_a + v * cos_a])

    return shapely.transform(np.asarray(geoms, dtype=object), matrix)


def _polygonal(geom: shapely.Geometry, min_area: float) -> Polygon | None:
    if geom is None or geom.is_empty:
        return None
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area >= min_area]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _grid(rng: np.random.Generator, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid line offsets (m) from the centre, irregular spacing of 170–320 m."""
    offsets = [-radius - 150.0]
    while offsets[-1] < radius + 150.0:
        offsets.append(offsets[-1] + float(rng.uniform(170.0, 320.0)))
    lines = np.asarray(offsets)
    widths = np.where(np.arange(len(lines)) % 3 == 0, 24.0, 12.0)
    return lines, widths


def _blob(rng: np.random.Generator, cx: float, cy: float, radius: float) -> Polygon:
    """An irregular built-up outline around a town centre."""
    theta = np.linspace(0.0, 2.0 * np.pi, 73)[:-1]
    phases = rng.uniform(0.0, 2.0 * np.pi, 3)
    r = radius * (1.0 + 0.18 * np.sin(2 * theta + phases[0]) + 0.10 * np.sin(3 * theta + phases[1]) + 0.06 * np.sin(5 * theta + phases[2]))
    return Polygon(np.column_stack([cx + r * np.cos(theta), cy + r * np.sin(theta)]))


@dataclass
class _Town:
    subdistrict: str
    code: str
    office: str
    sanitation: str
    outline: Polygon


def _build_town(rng: np.random.Generator, town: _Town, units: pd.DataFrame, zones: _Rows, streets: list[dict[str, object]], street_geoms: list[LineString],
                road_names: list[str], unit_pool: dict[str, list[str]]) -> list[dict[str, object]]:
    """Lay a street grid over ``town.outline`` and add its road, block and frontage zones.

    Returns the blocks (for test points), each with its use and metric geometry.
    """
    centre = town.outline.centroid
    cx, cy = centre.x, centre.y
    minx, miny, maxx, maxy = town.outline.bounds
    radius = max(maxx - minx, maxy - miny) / 2.0
    angle = float(rng.uniform(-0.35, 0.35))
    xs, wx = _grid(rng, radius)
    ys, wy = _grid(rng, radius)
    x_names = [road_names.pop() for _ in xs]
    y_names = [road_names.pop() for _ in ys]
    unit_name = dict(zip(units["unit_id"], units["unit_name"], strict=True))
    outline = town.outline

    def clip(local: list[Polygon]) -> list[Polygon | None]:
        placed = _rotate(local, cx, cy, angle)
        return [_polygonal(g, 25.0) for g in shapely.intersection(placed, outline)]

    # Street centrelines.
    span = radius + 200.0
    lines = [LineString([(x, -span), (x, span)]) for x in xs] + [LineString([(-span, y), (span, y)]) for y in ys]
    placed_lines = shapely.intersection(_rotate(lines, cx, cy, angle), outline)
    for k, line in enumerate(placed_lines):
        if line.is_empty:
            continue
        is_x = k < len(xs)
        streets.append({"name": (x_names if is_x else y_names)[k if is_x else k - len(xs)], "width_m": float((wx if is_x else wy)[k if is_x else k - len(xs)]),
                        "subdistrict": town.subdistrict})
        street_geoms.append(line)

    # Road segments: along x-lines they include the crossings; along y-lines they run between.
    road_local: list[Polygon] = []
    road_rows: list[dict[str, object]] = []
    for i, x in enumerate(xs):
        for j in range(len(ys) - 1):
            road_local.append(shapely.box(x - wx[i] / 2, ys[j] - wy[j] / 2, x + wx[i] / 2, ys[j + 1] - wy[j + 1] / 2))
            road_rows.append({"name": f"{x_names[i]}（{y_names[j]}至{y_names[j + 1]}段）"})
    for j, y in enumerate(ys):
        for i in range(len(xs) - 1):
            road_local.append(shapely.box(xs[i] + wx[i] / 2, y - wy[j] / 2, xs[i + 1] - wx[i + 1] / 2, y + wy[j] / 2))
            road_rows.append({"name": f"{y_names[j]}（{x_names[i]}至{x_names[i + 1]}段）"})
    for geom, row in zip(clip(road_local), road_rows, strict=True):
        if geom is not None:
            zones.add(geom, kind="road", unit_id=town.sanitation, duties="sanitation,order,facilities", priority=1, post="道路保洁责任人", **row)

    blocks: list[dict[str, object]] = []
    uses = ("residential", "block", "campus", "market", "park", "plaza")
    weights = np.array([0.50, 0.22, 0.08, 0.05, 0.09, 0.06])
    for i in range(len(xs) - 1):
        for j in range(len(ys) - 1):
            x0, x1 = xs[i] + wx[i] / 2, xs[i + 1] - wx[i + 1] / 2
            y0, y1 = ys[j] + wy[j] / 2, ys[j + 1] - wy[j + 1] / 2
            cell = _rotate([shapely.box(x0, y0, x1, y1)], cx, cy, angle)[0]
            if not cell.intersects(outline):
                continue
            use = str(rng.choice(uses, p=weights))
            block = {"use": use, "cell": cell, "main": None}
            _fill_block(rng, block, (x0, y0, x1, y1), (x_names[i], x_names[i + 1], y_names[j], y_names[j + 1]),
                        (wx[i] >= 24 or wx[i + 1] >= 24 or wy[j] >= 24 or wy[j + 1] >= 24), clip, zones, unit_pool, town, unit_name)
            blocks.append(block)
    return blocks


def _fill_block(rng: np.random.Generator, block: dict[str, object], rect: tuple[float, float, float, float], sides: tuple[str, str, str, str],
                on_main_road: bool, clip, zones: _Rows, unit_pool: dict[str, list[str]], town: _Town,  # noqa: ANN001 - clip is a local closure
                unit_name: dict[str, str]) -> None:
    x0, y0, x1, y1 = rect
    left_road, right_road, bottom_road, top_road = sides
    use = str(block["use"])

    def add(local: Polygon, **row: object) -> None:
        geom = clip([local])[0]
        if geom is None:
            return
        zones.add(geom, **row)
        if row["kind"] == MAIN_KIND[use]:
            block["main"] = len(zones.geoms) - 1

    def pick(pool: str) -> str:
        choices = unit_pool[pool]
        return choices[int(rng.integers(len(choices)))]

    whole = shapely.box(x0, y0, x1, y1)
    if use in ("park", "plaza", "campus"):
        owner = {"park": "D-YL", "plaza": town.office, "campus": pick("school")}[use]
        local = whole.buffer(6.0, join_style="mitre") if use == "plaza" else whole
        name = {"park": f"{bottom_road}口袋公园", "plaza": f"{left_road}{top_road}广场", "campus": f"{unit_name[owner]}校园及周边"}[use]
        duties = "sanitation,greening,facilities" if use == "park" else "sanitation,order,greening,facilities"
        add(local, kind=use, unit_id=owner, duties=duties, priority=3 if use != "park" else 2, name=name,
            post={"park": "园区管理员", "plaza": "广场管理员", "campus": "校园周边安全责任人"}[use])
        return
    depth = float(rng.uniform(*FRONTAGE_DEPTH_M))
    has = {side: bool(rng.random() < (0.85 if on_main_road else 0.45)) for side in ("left", "right", "bottom", "top")}
    inner = (x0 + depth * has["left"], y0 + depth * has["bottom"], x1 - depth * has["right"], y1 - depth * has["top"])
    strips: list[tuple[Polygon, str, str]] = []  # geometry, road, side

    def split(a: float, b: float, make, road: str, side: str) -> None:  # noqa: ANN001 - make builds a box
        pos = a
        while pos < b - 1.0:
            end = min(b, pos + float(rng.uniform(40.0, 90.0)))
            if b - end < 20.0:
                end = b
            strips.append((make(pos, end), road, side))
            pos = end

    step = STEP_FORWARD_M
    if has["bottom"]:
        split(x0, x1, lambda a, b: shapely.box(a, y0, b, y0 + depth), bottom_road, "bottom")
    if has["top"]:
        split(x0, x1, lambda a, b: shapely.box(a, y1 - depth, b, y1), top_road, "top")
    if has["left"]:
        split(inner[1], inner[3], lambda a, b: shapely.box(x0, a, x0 + depth, b), left_road, "left")
    if has["right"]:
        split(inner[1], inner[3], lambda a, b: shapely.box(x1 - depth, a, x1, b), right_road, "right")
    for n, (strip, road, side) in enumerate(strips, start=1):
        if rng.random() < 0.35:  # step forward into the street: an overlap with the road zone
            grow = {"bottom": (0, -step, 0, 0), "top": (0, 0, 0, step), "left": (-step, 0, 0, 0), "right": (0, 0, step, 0)}[side]
            a0, b0, a1, b1 = strip.bounds
            strip = shapely.box(a0 + grow[0], b0 + grow[1], a1 + grow[2], b1 + grow[3])
        owner = pick("shop") if rng.random() < 0.8 else pick("company")
        add(strip, kind="frontage", unit_id=owner, duties="sanitation,order,greening", priority=3, name=f"{road}{n * 2 - 1}号门前", post="门前三包责任人")
    interior = shapely.box(*inner)
    if use == "market":
        ix0, iy0, ix1, iy1 = inner
        mx, my = (ix0 + ix1) / 2, (iy0 + iy1) / 2
        hall = shapely.box(mx - (ix1 - ix0) * 0.2, my - (iy1 - iy0) * 0.2, mx + (ix1 - ix0) * 0.2, my + (iy1 - iy0) * 0.2)
        operator = pick("market")
        add(hall.buffer(5.0, join_style="mitre"), kind="market", unit_id=operator, duties="sanitation,order,facilities", priority=4,
            name=unit_name[operator].replace("管理有限公司", ""), post="市场管理员")
        interior = interior.difference(hall)
    owner = pick("community") if use == "residential" and rng.random() < 0.7 else (pick("property") if use == "residential" else town.office)
    kind = "residential" if use in ("residential", "market") else "block"
    name = f"{unit_name[owner].removesuffix('社区居委会')}小区" if owner.startswith("C") else f"{left_road}以东{bottom_road}以北街区"
    add(interior, kind=kind, unit_id=owner, duties="sanitation,order,greening,facilities", priority=2, name=name,
        post="网格员" if kind == "residential" else "街区责任人")


def _make_gaps(rng: np.random.Generator, zones: gpd.GeoDataFrame, builtup_area: float) -> np.ndarray:
    """Choose zones to leave out so that 5–10 % of the built-up area has no owner."""
    keep = np.ones(len(zones), dtype=bool)
    candidates = np.flatnonzero(zones["kind"].isin(["block", "residential", "frontage", "road"]).to_numpy())
    rng.shuffle(candidates)
    union_area = shapely.union_all(zones.geometry.to_numpy()).area
    gap = builtup_area - union_area
    areas = zones.geometry.area.to_numpy()
    for k in candidates:
        if gap >= GAP_TARGET * builtup_area:
            break
        keep[k] = False
        gap += areas[k] * 0.9  # the overlaps make a removed zone's own area a slight overestimate
    return keep


def _station_name(where: shapely.Point, label: str, streets_m: gpd.GeoDataFrame, taken: set[str]) -> str:
    """A name for a station OpenStreetMap leaves unnamed, as such stations are named: by the
    nearest street, or by the two nearest where that is taken (长城路正阳路站), numbered last."""
    first, second = (str(streets_m["name"].iloc[k]) for k in np.argsort(shapely.distance(streets_m.geometry.to_numpy(), where))[:2])
    names = [f"{first}{label}", f"{first}{second}{label}"]
    names += (f"{first}{second}{label}{n}" for n in range(2, len(taken) + 3))
    return next(name for name in names if name not in taken)


def _test_points(rng: np.random.Generator, blocks: list[dict[str, object]], zones_m: gpd.GeoDataFrame, builtup: shapely.Geometry, stations_m: gpd.GeoDataFrame,
                 streets_m: gpd.GeoDataFrame, units: pd.DataFrame) -> gpd.GeoDataFrame:
    rows: list[dict[str, object]] = []
    geoms: list[shapely.Geometry] = []
    owner_of = zones_m["unit_id"].to_numpy()
    unit_name = dict(zip(units["unit_id"], units["unit_name"], strict=True))

    def add(geom: shapely.Geometry, kind: TestPointType, name: str, adopter: str | None) -> None:
        if rng.random() < 0.14:  # not adopted by anyone yet
            adopter = None
        rows.append({"point_id": f"TP{len(rows) + 1:04d}", "name": name, "type": kind.value, "unit_id": adopter})
        geoms.append(geom)

    taken: set[str] = set()
    for st in stations_m.itertuples():
        label = {"subway": "地铁站", "tram_stop": "有轨电车站", "tram": "有轨电车站", "train": "火车站"}.get(st.station, "站点")
        name = f"{st.name}{label}" if isinstance(st.name, str) and st.name else _station_name(st.geometry, label, streets_m, taken)
        taken.add(name)
        add(st.geometry, TestPointType.STATION, name, "D-JT")
    by_use: dict[str, list[dict[str, object]]] = {}
    for block in blocks:
        by_use.setdefault(str(block["use"]), []).append(block)

    def zone_points(use: str, kind: TestPointType, suffix: str, limit: int) -> None:
        for block in by_use.get(use, [])[:limit]:
            main = block["main"]
            if main is None:
                continue
            geom = zones_m.geometry.iloc[main]
            add(geom.point_on_surface(), kind, f"{zones_m['name'].iloc[main]}{suffix}", str(owner_of[main]))

    zone_points("market", TestPointType.MARKET, "", 40)
    zone_points("campus", TestPointType.SCHOOL, "", 40)
    zone_points("park", TestPointType.PARK, "", 40)
    zone_points("plaza", TestPointType.PLAZA, "", 40)
    residential = by_use.get("residential", [])
    for block in residential[:: max(1, len(residential) // 45)][:45]:
        main = block["main"]
        if main is not None:
            inset = _polygonal(zones_m.geometry.iloc[main].buffer(-5.0), 100.0)
            add(inset if inset is not None else zones_m.geometry.iloc[main], TestPointType.RESIDENTIAL, f"{zones_m['name'].iloc[main]}（老旧小区）",
                str(owner_of[main]))
    minx, miny, maxx, maxy = builtup.bounds
    shapely.prepare(builtup)
    counts = {TestPointType.TOILET: 70, TestPointType.HOSPITAL: 12, TestPointType.OTHER: 0}
    tree = shapely.STRtree(zones_m.geometry.to_numpy())
    for kind, count in counts.items():
        made = 0
        while made < count:
            pt = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if not builtup.contains(pt):
                continue
            hits = tree.query(pt, predicate="intersects")
            adopter = str(owner_of[hits[0]]) if len(hits) else ("D-CG" if kind == TestPointType.TOILET else "D-WJ")
            label = "公共厕所" if kind == TestPointType.TOILET else "医院周边"
            add(pt, kind, f"{label}{made + 1}号", adopter)
            made += 1
    main_streets = streets_m[streets_m["width_m"] >= 24].reset_index(drop=True)
    for n in range(130):
        street = main_streets.iloc[n % len(main_streets)]
        line = street.geometry
        pt = line.interpolate(float(rng.uniform(0.05, 0.95)), normalized=True)
        side = float(rng.choice([-1.0, 1.0]))
        shifted = shapely.affinity.translate(pt, xoff=side * 10.0, yoff=side * 4.0)
        add(shifted, TestPointType.BUS_STOP, f"{street['name']}公交站{n // len(main_streets) + 1}", "D-JT" if rng.random() < 0.5 else None)
    out = gpd.GeoDataFrame(rows, geometry=geoms, crs=METRIC_CRS)
    out["unit_name"] = [unit_name.get(u, "") if u else "" for u in out["unit_id"]]
    return out


def _people(rng: np.random.Generator, zones: gpd.GeoDataFrame, units: pd.DataFrame) -> gpd.GeoDataFrame:
    unit_name = dict(zip(units["unit_id"], units["unit_name"], strict=True))
    zones = zones.copy()
    zones["unit_name"] = [unit_name[u] for u in zones["unit_id"]]
    zones["person"] = [names.person_name(rng) for _ in range(len(zones))]
    zones["phone"] = [names.phone_number(rng) for _ in range(len(zones))]
    zones["valid_from"] = "2021-05-01"
    return zones


def generate(seed: int = DEFAULT_SEED) -> DemoLayers:
    """Build every demo layer for ``seed``. Takes a few seconds."""
    rng = np.random.default_rng(seed)
    district = load_district()
    district_m = district.to_crs(METRIC_CRS).geometry.union_all()
    subdistricts = load_subdistricts()
    subdistricts_m = subdistricts.to_crs(METRIC_CRS)
    units = _make_units(rng, subdistricts)
    unit_pool = {
        "shop": [u for u in units["unit_id"] if u.startswith("B")],
        "company": [u for u in units["unit_id"] if u.startswith(("P", "M"))],
        "community": [u for u in units["unit_id"] if u.startswith("C")],
        "property": [u for u in units["unit_id"] if u.startswith("P")],
        "school": [u for u in units["unit_id"] if u.startswith("S")],
        "market": [u for u in units["unit_id"] if u.startswith("M")],
    }
    zones = _Rows()
    streets: list[dict[str, object]] = []
    street_geoms: list[LineString] = []
    blocks: list[dict[str, object]] = []
    outlines: list[dict[str, object]] = []
    road_names = names.road_names(rng, 400)
    for k, sub in enumerate(subdistricts_m.itertuples(), start=1):
        lon, lat, radius = TOWNS[sub.nbs_code]
        centre = gpd.GeoSeries(shapely.points([lon], [lat]), crs=STORAGE_CRS).to_crs(METRIC_CRS).iloc[0]
        inside = sub.geometry.intersection(district_m).buffer(-20.0)
        outline = _polygonal(_blob(rng, centre.x, centre.y, radius).intersection(inside), 1e4)
        if outline is None:
            continue
        if outline.geom_type == "MultiPolygon":
            outline = max(outline.geoms, key=lambda g: g.area)
        town = _Town(sub.name, sub.nbs_code, f"JD{k:02d}", f"HW{k:02d}", outline)
        outlines.append({"area_id": sub.nbs_code, "name": f"{sub.name}建成区", "subdistrict": sub.name, "geometry": outline})
        blocks.extend(_build_town(rng, town, units, zones, streets, street_geoms, road_names, unit_pool))
    zones_m = gpd.GeoDataFrame(zones.rows, geometry=zones.geoms, crs=METRIC_CRS)
    builtup_m = gpd.GeoDataFrame(outlines, geometry="geometry", crs=METRIC_CRS)
    builtup_union = builtup_m.geometry.union_all()
    keep = _make_gaps(rng, zones_m, builtup_union.area)
    # Re-number blocks' zone references after dropping the gap zones.
    new_index = np.cumsum(keep) - 1
    for block in blocks:
        main = block["main"]
        block["main"] = int(new_index[main]) if main is not None and keep[main] else None
    zones_m = zones_m[keep].reset_index(drop=True)
    zones_m.insert(0, "zone_id", [f"Z{n:05d}" for n in range(1, len(zones_m) + 1)])
    zones_m = _people(rng, zones_m, units)
    streets_m = gpd.GeoDataFrame(streets, geometry=street_geoms, crs=METRIC_CRS)
    stations_m = load_stations().to_crs(METRIC_CRS)
    points_m = _test_points(rng, blocks, zones_m, builtup_union, stations_m, streets_m, units)
    areas = _areas(district, subdistricts, units)
    columns = ["zone_id", "name", "unit_id", "unit_name", "duties", "kind", "priority", "person", "post", "phone", "valid_from", "geometry"]
    return DemoLayers(
        district=district,
        areas=areas,
        builtup=builtup_m.to_crs(STORAGE_CRS),
        streets=streets_m.to_crs(STORAGE_CRS),
        zones=zones_m[columns].to_crs(STORAGE_CRS),
        test_points=points_m.to_crs(STORAGE_CRS),
        units=units,
        categories=pd.read_csv(CATEGORIES_FILE, dtype=str, keep_default_na=False),
    )


def _areas(district: gpd.GeoDataFrame, subdistricts: gpd.GeoDataFrame, units: pd.DataFrame) -> gpd.GeoDataFrame:
    unit_name = dict(zip(units["unit_id"], units["unit_name"], strict=True))
    rows = [{"area_id": DISTRICT_ID, "name": "城阳区", "level": "district", "default_unit_id": DISTRICT_UNIT[0], "nbs_code": "370214000000"}]
    geoms = [district.geometry.union_all()]
    for k, sub in enumerate(subdistricts.itertuples(), start=1):
        rows.append({"area_id": sub.nbs_code, "name": sub.name, "level": "subdistrict", "default_unit_id": f"JD{k:02d}", "nbs_code": sub.nbs_code})
        geoms.append(sub.geometry)
    areas = gpd.GeoDataFrame(rows, geometry=geoms, crs=STORAGE_CRS)
    areas["default_unit_name"] = [unit_name[u] for u in areas["default_unit_id"]]
    return areas
