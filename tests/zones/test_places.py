"""Places by name: Chinese characters or pinyin find sub-districts, streets and named places,
best match first, each with a pin on it and the sub-district it lies in."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString, Point, box

from zones.layer import ZoneLayer
from zones.places import Kind, gazetteer

WGS84 = "EPSG:4326"


def small_layer() -> ZoneLayer:
    zones = gpd.GeoDataFrame({"zone_id": ["Z1"], "unit_id": ["U1"], "name": [""], "unit_name": [""], "kind": ["block"], "priority": [0]},
                             geometry=[box(120.30, 36.20, 120.31, 36.21)], crs=WGS84)
    areas = gpd.GeoDataFrame({"area_id": ["D", "S1", "S2"], "name": ["城阳区", "城阳街道", "流亭街道"], "level": ["district", "subdistrict", "subdistrict"],
                              "default_unit_id": ["D-ZH", "JD01", "JD02"]},
                             geometry=[box(120.2, 36.1, 120.6, 36.5), box(120.2, 36.1, 120.4, 36.5), box(120.4, 36.1, 120.6, 36.5)], crs=WGS84)
    points = gpd.GeoDataFrame({"point_id": ["TP1", "TP2", "TP3"], "name": ["正阳街地铁站", "城阳农贸市场", "公共厕所1号"],
                               "type": ["station", "market", "toilet"], "unit_id": [None, None, None]},
                              geometry=[Point(120.45, 36.3), box(120.25, 36.25, 120.26, 36.26), Point(120.3, 36.3)], crs=WGS84)
    streets = gpd.GeoDataFrame({"name": ["正阳街", "正阳街", "长城路"]},
                               geometry=[LineString([(120.30, 36.30), (120.35, 36.30)]), LineString([(120.35, 36.30), (120.45, 36.30)]),
                                         MultiLineString([[(120.5, 36.2), (120.5, 36.4)]])], crs=WGS84)
    categories = pd.DataFrame({"code": ["litter"], "name_zh": ["垃圾"], "name_en": ["Litter"], "group": [""], "duty": [None],
                               "department_unit_id": [None], "deadline_hours": [24.0]})
    return ZoneLayer.build(zones, points, areas, categories, streets=streets)


def test_names_and_pinyin_find_places_best_first():
    places = gazetteer(small_layer())
    assert len(places) == 2 + 2 + 2  # two sub-districts, two streets (one of two pieces), two named places (not the toilet)
    assert [p.name for p in places.find("正阳街")] == ["正阳街", "正阳街地铁站"]  # the whole name, then one starting with it
    assert [p.name for p in places.find("zyj")] == ["正阳街", "正阳街地铁站"]  # pinyin initials
    assert [p.name for p in places.find(" Zheng yang ")] == ["正阳街", "正阳街地铁站"]  # syllables, spaces and case ignored
    assert [p.name for p in places.find("城阳")] == ["城阳街道", "城阳农贸市场"]  # a sub-district before a place
    assert [p.name for p in places.find("市场")] == ["城阳农贸市场"]  # a part of the name
    assert places.find("厕所") == [] and places.find("") == [] and places.find("<script>") == []
    assert len(places.find("c")) == 3 and len(places.find("c", limit=2)) == 2


def test_each_place_has_a_pin_on_it_and_its_sub_district():
    layer = small_layer()
    by_name = {p.name: p for p in gazetteer(layer).find("z") + gazetteer(layer).find("c")}
    street = by_name["正阳街"]
    assert (street.kind, street.subdistrict) == (Kind.STREET, "城阳街道")
    assert shapely.distance(Point(street.lon, street.lat), layer.streets.union_all()) < 1e-6  # on the street, halfway along it
    assert street.lon == 120.375
    market = by_name["城阳农贸市场"]
    assert box(120.25, 36.25, 120.26, 36.26).contains(Point(market.lon, market.lat)) and market.subdistrict == "城阳街道"
    assert by_name["长城路"].subdistrict == "流亭街道" and by_name["城阳街道"].subdistrict == ""
