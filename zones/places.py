"""Places by name, for a person who has no GPS fix: the layer's sub-districts, streets and named
places (stations, markets, schools, ...), found by a few characters of the name or by pinyin
(initials like ``zyl`` or the whole syllables like ``zhengyang``), best match first."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import geopandas as gpd
import shapely
from pypinyin import Style, lazy_pinyin

from zones.config import STORAGE_CRS
from zones.layer import ZoneLayer

#: Test points whose names help a person find their way (a toilet or a bus stop rarely does).
PLACE_TYPES = ("station", "market", "school", "hospital", "park", "plaza")
#: Characters of a query that are looked at.
MAX_QUERY = 40


class Kind(IntEnum):
    """What a place is, in the order equally good matches are listed."""

    SUBDISTRICT = 0
    STREET = 1
    PLACE = 2


class Match(IntEnum):
    """How well a query matches a name, best first."""

    NAME = 0  # the whole name
    NAME_START = 1
    NAME_PART = 2
    PINYIN_START = 3  # initials or syllables from the start
    PINYIN_PART = 4


@dataclass(frozen=True)
class Place:
    """A named place, where a pin for it goes (WGS84) and the sub-district it lies in."""

    name: str
    kind: Kind
    lon: float
    lat: float
    subdistrict: str


@dataclass(frozen=True)
class _Entry:
    place: Place
    initials: str
    syllables: str


class Gazetteer:
    """The places of one layer, searched by name or pinyin."""

    def __init__(self, places: list[Place]) -> None:
        self._entries = [_Entry(p, "".join(lazy_pinyin(p.name, style=Style.FIRST_LETTER)).lower(), "".join(lazy_pinyin(p.name)).lower())
                         for p in places]

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, query: str, limit: int = 8) -> list[Place]:
        """The places ``query`` names, best match first: the whole name, then its start, then a
        part of it, then pinyin; sub-districts before streets before places; shorter names first."""
        text = "".join(query.split())[:MAX_QUERY]
        if not text:
            return []
        latin = text.lower()
        found = [(match, e.place.kind, len(e.place.name), e.place.name, e.place) for e in self._entries if (match := _match(e, text, latin)) is not None]
        return [row[-1] for row in sorted(found, key=lambda row: row[:4])[:limit]]


def _match(entry: _Entry, text: str, latin: str) -> Match | None:
    name = entry.place.name
    if name == text:
        return Match.NAME
    if name.startswith(text):
        return Match.NAME_START
    if text in name:
        return Match.NAME_PART
    if not latin.isascii() or not latin.isalpha():
        return None
    if entry.initials.startswith(latin) or entry.syllables.startswith(latin):
        return Match.PINYIN_START
    if len(latin) >= 2 and (latin in entry.initials or latin in entry.syllables):
        return Match.PINYIN_PART
    return None


def gazetteer(layer: ZoneLayer) -> Gazetteer:
    """The sub-districts, streets (a pin halfway along each) and named places of ``layer``."""
    areas = layer.areas[layer.areas["level"] == "subdistrict"] if "level" in layer.areas.columns else layer.areas
    subdistricts = gpd.GeoDataFrame({"name": areas["name"].to_numpy()}, geometry=areas.geometry.to_numpy(), crs=STORAGE_CRS)
    points: list[tuple[str, Kind, shapely.Geometry]] = [
        (str(name), Kind.SUBDISTRICT, shapely.point_on_surface(geom)) for name, geom in zip(areas["name"], areas.geometry, strict=True)]
    if layer.streets is not None:
        for name, lines in layer.streets.dissolve("name").geometry.items():
            merged = shapely.line_merge(lines)
            longest = max(getattr(merged, "geoms", [merged]), key=lambda line: line.length)
            points.append((str(name), Kind.STREET, longest.interpolate(0.5, normalized=True)))
    named = layer.test_points[layer.test_points["type"].isin(PLACE_TYPES)]
    points += [(str(name), Kind.PLACE, shapely.point_on_surface(geom)) for name, geom in zip(named["name"], named.geometry, strict=True)]
    where = gpd.GeoDataFrame({"n": range(len(points))}, geometry=[p[2] for p in points], crs=STORAGE_CRS)
    inside = where.sjoin(subdistricts, predicate="within", how="left").groupby("n")["name"].first()
    return Gazetteer([Place(name, kind, round(geom.x, 6), round(geom.y, 6), "" if kind == Kind.SUBDISTRICT or not isinstance(inside[n], str)
                            else inside[n]) for n, (name, kind, geom) in enumerate(points)])
